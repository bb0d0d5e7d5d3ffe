"""Pure ASGI middleware: body size limit, locale choice, security headers."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from phongdich.core.i18n import pick_locale

# The answer to an unexpected error, from the exception handler and from the scan lane alike.
SERVER_ERROR = ("server.error", "Đã có lỗi xảy ra phía máy chủ. Vui lòng thử lại sau.")


def error_body(code: str, message: str, details: Any = None) -> bytes:
    """The API's one error shape, for answers given before the router."""
    return json.dumps(
        {"error": {"code": code, "message": message, "details": details}}, ensure_ascii=False
    ).encode()


# On every response: by `LocaleAndHeaders`, and by the scan lane, which answers before it.
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; "
        b"script-src 'self'; frame-ancestors 'none'",
    ),
]


async def send_json(send: Send, status: int, body: bytes, *, secure: bool = False) -> None:
    """A whole JSON response from plain ASGI; `secure` adds the security headers (for answers
    given outside `LocaleAndHeaders`)."""
    headers = [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
    ]
    if secure:
        headers += SECURITY_HEADERS
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuse bodies over the limit before reading them (uploads get a larger limit).

    Checks Content-Length up front and counts streamed chunks too, for clients that omit it.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        limit = self.max_upload_bytes if content_type.startswith("multipart/") else self.max_bytes
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await self._refuse(send, limit)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge(limit)
            return message

        try:
            await self.app(scope, counting_receive, send)
        except _TooLarge:
            await self._refuse(send, limit)

    @staticmethod
    async def _refuse(send: Send, limit: int) -> None:
        body = error_body(
            "request.too_large",
            f"Dữ liệu gửi lên quá lớn (tối đa {limit // 1_000_000 or 1} MB).",
            {"max_bytes": limit},
        )
        await send_json(send, 413, body)


class _TooLarge(Exception):
    def __init__(self, limit: int) -> None:
        self.limit = limit


class LocaleAndHeaders:
    """Pick the page language (?lang= or the `lang` cookie) and add security headers."""

    def __init__(self, app: ASGIApp, default_locale: str) -> None:
        self.app = app
        self.default_locale = default_locale

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        requested = None
        for part in query.split("&"):
            if part.startswith("lang="):
                requested = part[5:]
        cookie = dict(scope["headers"]).get(b"cookie", b"").decode("latin-1")
        for item in cookie.split(";"):
            key, _, value = item.strip().partition("=")
            if key == "lang" and requested is None:
                requested = value
        scope.setdefault("state", {})["locale"] = pick_locale(requested or self.default_locale)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)
