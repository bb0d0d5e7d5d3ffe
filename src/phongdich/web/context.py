"""Per-request context: the database session (the transaction boundary), who is acting, now."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from phongdich.audit.service import Actor
from phongdich.auth.policy import Principal
from phongdich.auth.service import principal_for
from phongdich.auth.sessions import resolve_session
from phongdich.auth.tokens import principal_for_token
from phongdich.config import Settings
from phongdich.core.errors import AppError, Unauthenticated
from phongdich.core.i18n import gettext_for
from phongdich.models import User, WebSession

SESSION_COOKIE = "pd_session"
ANON_CSRF_COOKIE = "pd_csrf"


@dataclass
class Ctx:
    request: Request
    db: Session
    settings: Settings
    now: datetime
    locale: str
    principal: Principal | None = None
    user: User | None = None
    web_session: WebSession | None = None
    via_token: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ip(self) -> str | None:
        return self.request.client.host if self.request.client else None

    @property
    def actor(self) -> Actor:
        return Actor(self.principal, self.ip)

    def gettext(self, message: str) -> str:
        return gettext_for(self.locale)(message)

    def require_principal(self) -> Principal:
        if self.principal is None:
            raise Unauthenticated()
        return self.principal

    def require_user(self) -> User:
        if self.user is None:
            raise Unauthenticated()
        return self.user

    @property
    def csrf_token(self) -> str:
        """The token forms must echo: the session's, or a pre-sign-in cookie's."""
        if self.web_session is not None:
            return self.web_session.csrf_token
        token = self.request.cookies.get(ANON_CSRF_COOKIE) or self.extra.get("new_anon_csrf")
        if not token:
            token = secrets.token_urlsafe(24)
            self.extra["new_anon_csrf"] = token
        return str(token)


def _session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the endpoint returns, rolled back on error.

    Services never commit; this is the boundary the house style asks for.
    """
    db: Session = request.app.state.session_factory()
    try:
        yield db
        db.commit()
    except BaseException:
        db.rollback()
        raise
    finally:
        db.close()


def _ctx(request: Request, db: Annotated[Session, Depends(_session, scope="function")]) -> Ctx:
    settings: Settings = request.app.state.settings
    ctx = Ctx(
        request=request,
        db=db,
        settings=settings,
        now=request.app.state.clock.now(),
        locale=request.state.locale,
    )
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        principal = principal_for_token(db, auth[7:].strip(), ctx.now)
        if principal is None:
            raise AppError(
                "auth.token_invalid", "Mã truy cập không hợp lệ hoặc đã bị thu hồi.", status=401
            )
        ctx.principal, ctx.via_token = principal, True
        return ctx
    found = resolve_session(db, request.cookies.get(SESSION_COOKIE), ctx.now)
    if found is not None:
        ctx.web_session, ctx.user = found
        ctx.principal = principal_for(db, ctx.user)
    return ctx


CtxDep = Annotated[Ctx, Depends(_ctx)]


def check_csrf(ctx: Ctx, submitted: str | None) -> None:
    """Refuse a cookie-authenticated change whose form or header lacks the matching token."""
    if ctx.via_token:
        return  # bearer tokens are not sent by browsers on their own, so CSRF cannot ride them
    expected = ctx.csrf_token
    if not submitted or not secrets.compare_digest(submitted, expected):
        raise AppError(
            "csrf.invalid",
            "Phiên làm việc của biểu mẫu đã hết hạn. Vui lòng tải lại trang và thử lại.",
            status=403,
        )
