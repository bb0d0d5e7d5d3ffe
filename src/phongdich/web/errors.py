"""One error shape for the API, friendly pages for people."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from phongdich.core.errors import AppError
from phongdich.core.i18n import gettext_for
from phongdich.web.middleware import SERVER_ERROR

log = logging.getLogger(__name__)

_HTTP_CODES = {
    404: ("not_found", "Không tìm thấy trang hoặc tài nguyên bạn yêu cầu."),
    405: ("method_not_allowed", "Phương thức không được hỗ trợ cho địa chỉ này."),
    415: ("unsupported_media_type", "Kiểu nội dung không được hỗ trợ."),
}


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_response(
    request: Request, status: int, code: str, message: str, details: object = None
) -> Response:
    locale = getattr(request.state, "locale", "vi")
    _ = gettext_for(locale)
    if wants_json(request):
        # The message in the asker's language (?lang= or the cookie); the code is the contract.
        return JSONResponse(
            {"error": {"code": code, "message": _(message), "details": details}},
            status_code=status,
        )
    if status == 401:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    from phongdich.web.templating import env

    html = env.get_template("error.html").render(
        _=_,
        locale=locale,
        status=status,
        code=code,
        message=_(message),
        user=None,
        roles=[],
        request=request,
        csrf_token="",
    )
    return HTMLResponse(html, status_code=status)


def install(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def app_error(request: Request, exc: AppError) -> Response:
        _ = gettext_for(getattr(request.state, "locale", "vi"))
        return error_response(request, exc.status, exc.code, exc.text(_), exc.details)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        details = [
            {"field": ".".join(str(p) for p in e["loc"][1:]), "problem": e["msg"]}
            for e in exc.errors()
        ]
        return error_response(
            request, 422, "request.invalid", "Dữ liệu gửi lên không hợp lệ.", details
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code, message = _HTTP_CODES.get(exc.status_code, ("http_error", "Yêu cầu không hợp lệ."))
        return error_response(request, exc.status_code, code, message)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s", request.url.path)
        return error_response(request, 500, *SERVER_ERROR)
