"""Browser sessions: a random cookie value, stored only as its hash, with a CSRF token."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from phongdich.models import User, WebSession


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def start_session(
    session: Session,
    user: User,
    *,
    now: datetime,
    hours: int,
    ip: str | None = None,
    user_agent: str | None = None,
) -> tuple[str, WebSession]:
    """Open a session; returns the cookie value (shown once) and the stored row."""
    value = secrets.token_urlsafe(32)
    row = WebSession(
        token_hash=_hash(value),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(24),
        created_at=now,
        expires_at=now + timedelta(hours=hours),
        ip=ip,
        user_agent=(user_agent or "")[:300] or None,
    )
    session.add(row)
    session.flush()
    return value, row


def resolve_session(
    session: Session, value: str | None, now: datetime
) -> tuple[WebSession, User] | None:
    """The live session and its active user for a cookie value, or None."""
    if not value:
        return None
    row = session.scalar(select(WebSession).where(WebSession.token_hash == _hash(value)))
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    return row, user


def end_session(session: Session, row: WebSession, now: datetime) -> None:
    row.revoked_at = now


def purge_sessions(session: Session, now: datetime) -> int:
    result = session.execute(
        delete(WebSession).where(WebSession.expires_at < now - timedelta(days=7))
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
