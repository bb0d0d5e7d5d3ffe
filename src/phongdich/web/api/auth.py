"""Sign-in by phone code or password, sign-out, and who am I."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from phongdich.auth.schemas import CodeRequest, CodeVerify, PasswordSignIn, UserRead
from phongdich.auth.sessions import end_session, start_session
from phongdich.auth.signin import (
    SignInOutcome,
    request_phone_code,
    sign_in_with_password,
    verify_phone_code,
)
from phongdich.models import User
from phongdich.web.api.common import api_write, user_read
from phongdich.web.context import SESSION_COOKIE, Ctx, CtxDep

router = APIRouter(prefix="/auth", tags=["auth"])


def deliver_sms(request: Request) -> None:
    """After the commit, hand queued messages to the gateway (a no-op for the outbox sender)."""
    app = request.app
    with app.state.session_factory() as db:
        app.state.sms_sender.deliver_pending(db, app.state.clock.now())
        db.commit()


def finish_sign_in(ctx: Ctx, outcome: SignInOutcome, response: Response) -> User:
    """Commit first (so a failure is counted even though we refuse), then refuse or sign in."""
    ctx.db.commit()
    user = outcome.raise_error()
    value, row = start_session(
        ctx.db,
        user,
        now=ctx.now,
        hours=ctx.settings.session_hours,
        ip=ctx.ip,
        user_agent=ctx.request.headers.get("user-agent"),
    )
    response.set_cookie(
        SESSION_COOKIE,
        value,
        httponly=True,
        samesite="lax",
        secure=ctx.settings.cookie_secure,
        max_age=ctx.settings.session_hours * 3600,
    )
    # API clients that use the cookie must echo this in X-CSRF-Token on every change.
    response.headers["X-CSRF-Token"] = row.csrf_token
    return user


@router.post("/code", summary="Gửi mã đăng nhập qua SMS")
def send_code(
    body: CodeRequest, ctx: CtxDep, background: BackgroundTasks, request: Request
) -> dict[str, object]:
    phone = request_phone_code(
        ctx.db,
        ctx.request.app.state.sms_sender,
        body.phone,
        ip=ctx.ip,
        now=ctx.now,
        ttl_seconds=ctx.settings.otp_ttl_seconds,
        length=ctx.settings.otp_length,
    )
    background.add_task(deliver_sms, request)
    return {"phone": phone, "expires_in_seconds": ctx.settings.otp_ttl_seconds}


@router.post("/code/verify", summary="Đăng nhập bằng mã SMS")
def verify_code(body: CodeVerify, ctx: CtxDep, response: Response) -> UserRead:
    outcome = verify_phone_code(ctx.db, body.phone, body.code, ip=ctx.ip, now=ctx.now)
    user = finish_sign_in(ctx, outcome, response)
    return _me(ctx, user.id)


@router.post("/password", summary="Đăng nhập bằng mật khẩu (cán bộ)")
def password(body: PasswordSignIn, ctx: CtxDep, response: Response) -> UserRead:
    outcome = sign_in_with_password(ctx.db, body.username, body.password, ip=ctx.ip, now=ctx.now)
    user = finish_sign_in(ctx, outcome, response)
    return _me(ctx, user.id)


@router.post("/sign-out", summary="Đăng xuất")
def sign_out(ctx: CtxDep, request: Request, response: Response) -> dict[str, bool]:
    if ctx.web_session is not None:
        api_write(ctx, request)
        end_session(ctx.db, ctx.web_session, ctx.now)
    response.delete_cookie(SESSION_COOKIE)
    return {"signed_out": True}


@router.get("/me", summary="Tài khoản đang đăng nhập")
def me(ctx: CtxDep, response: Response) -> UserRead:
    user = ctx.require_user()
    if ctx.web_session is not None:
        response.headers["X-CSRF-Token"] = ctx.web_session.csrf_token
    return _me(ctx, user.id)


def _me(ctx: Ctx, user_id: int) -> UserRead:
    user = ctx.db.scalar(select(User).options(selectinload(User.grants)).where(User.id == user_id))
    assert user is not None
    return user_read(ctx.db, user)
