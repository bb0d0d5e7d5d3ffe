"""One error type for every refusal, with a stable machine code and a Vietnamese message.

The web layer turns it into the API's error shape `{"error": {"code", "message", "details"}}`
or a friendly page; the CLI prints the message. Codes never change once published.
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """A refusal a user can understand: `code` for machines, `message` in Vietnamese for people."""

    status = 400

    def __init__(self, code: str, message: str, details: Any = None, status: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details
        if status is not None:
            self.status = status


class NotFound(AppError):
    status = 404


class Forbidden(AppError):
    status = 403

    def __init__(
        self, message: str = "Bạn không có quyền thực hiện thao tác này.", details: Any = None
    ):
        super().__init__("forbidden", message, details)


class Unauthenticated(AppError):
    status = 401

    def __init__(self, message: str = "Vui lòng đăng nhập để tiếp tục."):
        super().__init__("unauthenticated", message)


class Conflict(AppError):
    status = 409


class RateLimited(AppError):
    status = 429
