"""Sign-in pages: password for officials, phone code for citizens and venue owners."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from phongdich.auth.sessions import end_session, start_session
from phongdich.auth.signin import (
    SignInOutcome,
    request_phone_code,
    sign_in_with_password,
    verify_phone_code,
)
from phongdich.core.errors import AppError
from phongdich.core.phone import display_phone
from phongdich.web.api.auth import deliver_sms
from phongdich.web.context import SESSION_COOKIE, Ctx, CtxDep, check_csrf
from phongdich.web.templating import render

router = APIRouter()


def _safe_next(next_url: str | None) -> str:
    if next_url and next_url.startswith("/") and not next_url.startswith("//"):
        return next_url
    return "/"


@router.get("/login", response_class=HTMLResponse)
def login_page(ctx: CtxDep, next: Annotated[str | None, Query(max_length=200)] = None) -> Response:
    if ctx.user is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(ctx, "auth/login.html", next=_safe_next(next), error=None)


def _complete(
    ctx: Ctx, outcome: SignInOutcome, next_url: str, failed_template: str, **values: object
) -> Response:
    ctx.db.commit()  # keep the failure count even when we refuse
    if outcome.error is not None or outcome.user is None:
        err = outcome.error or AppError("auth.failed", "Đăng nhập không thành công.")
        return render(ctx, failed_template, status=err.status, error=err, next=next_url, **values)
    value, _row = start_session(
        ctx.db,
        outcome.user,
        now=ctx.now,
        hours=ctx.settings.session_hours,
        ip=ctx.ip,
        user_agent=ctx.request.headers.get("user-agent"),
    )
    response = RedirectResponse(next_url, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        value,
        httponly=True,
        samesite="lax",
        secure=ctx.settings.cookie_secure,
        max_age=ctx.settings.session_hours * 3600,
    )
    return response


@router.post("/login/password")
def login_password(
    ctx: CtxDep,
    username: Annotated[str, Form(max_length=60)],
    password: Annotated[str, Form(max_length=200)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=200)] = "/",
) -> Response:
    check_csrf(ctx, csrf_token)
    outcome = sign_in_with_password(ctx.db, username, password, ip=ctx.ip, now=ctx.now)
    return _complete(ctx, outcome, _safe_next(next), "auth/login.html")


@router.post("/login/code")
def login_code_request(
    ctx: CtxDep,
    request: Request,
    background: BackgroundTasks,
    phone: Annotated[str, Form(max_length=30)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=200)] = "/",
) -> Response:
    check_csrf(ctx, csrf_token)
    try:
        normalized = request_phone_code(
            ctx.db,
            request.app.state.sms_sender,
            phone,
            ip=ctx.ip,
            now=ctx.now,
            ttl_seconds=ctx.settings.otp_ttl_seconds,
            length=ctx.settings.otp_length,
        )
    except AppError as err:
        return render(
            ctx, "auth/login.html", status=err.status, error=err, next=_safe_next(next), phone=phone
        )
    background.add_task(deliver_sms, request)
    return render(
        ctx,
        "auth/code.html",
        phone=normalized,
        phone_display=display_phone(normalized),
        next=_safe_next(next),
        error=None,
        ttl_minutes=ctx.settings.otp_ttl_seconds // 60,
    )


@router.post("/login/code/verify")
def login_code_verify(
    ctx: CtxDep,
    phone: Annotated[str, Form(max_length=30)],
    code: Annotated[str, Form(max_length=12)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=200)] = "/",
) -> Response:
    check_csrf(ctx, csrf_token)
    outcome = verify_phone_code(ctx.db, phone, code, ip=ctx.ip, now=ctx.now)
    return _complete(
        ctx,
        outcome,
        _safe_next(next),
        "auth/code.html",
        phone=phone,
        phone_display=display_phone(phone) if phone.startswith("+84") else phone,
        ttl_minutes=ctx.settings.otp_ttl_seconds // 60,
    )


@router.post("/logout")
def logout(ctx: CtxDep, csrf_token: Annotated[str, Form(max_length=100)] = "") -> Response:
    if ctx.web_session is not None:
        check_csrf(ctx, csrf_token)
        end_session(ctx.db, ctx.web_session, ctx.now)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
