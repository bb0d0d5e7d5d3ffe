"""One error type for every refusal, with a stable machine code and a Vietnamese message.

The web layer turns it into the API's error shape `{"error": {"code", "message", "details"}}`
or a friendly page; the CLI prints the message. Codes never change once published.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from string import Formatter
from typing import Any


class AppError(Exception):
    """A refusal a user can understand: `code` for machines, `message` in Vietnamese for people.

    A message that names values (`"Mỗi lần gửi tối đa {max} lượt quét."`) takes them from
    `details`, which the API returns anyway: the message as written is then a template, kept in
    `template` so that the catalogue can translate it before the values are filled in (`text`).
    """

    status = 400

    def __init__(self, code: str, message: str, details: Any = None, status: int | None = None):
        params = details if isinstance(details, Mapping) and "{" in message else None
        filled = fill(message, params)
        super().__init__(filled)
        self.code = code
        self.message = filled
        self.template = message
        self.params = params
        self.details = details
        if status is not None:
            self.status = status

    @property
    def named(self) -> dict[str, Any] | None:
        """Only the values the template names: what to keep beside it (a failed job's result),
        without the rest of `details` (an import's list of row errors, say)."""
        if not self.params:
            return None
        return {n: self.params[n] for _, n, _, _ in Formatter().parse(self.template) if n}

    def text(self, gettext: Callable[[str], str]) -> str:
        """The message in the language of `gettext` (Vietnamese when it has no translation)."""
        return fill(gettext(self.template), self.params)


def fill(template: str, params: Mapping[str, Any] | None) -> str:
    """A message template with its values filled in; a template without values as it is."""
    return template.format_map(params) if params else template


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
