"""Sliding-window limits on sign-in attempts and code requests, stored in the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from phongdich.models import AuthAttempt


@dataclass(frozen=True)
class Limit:
    kind: str
    max_events: int
    window: timedelta


# A phone that gets 5 wrong codes in 15 minutes is locked out until the window passes.
CODE_FAILURES_PER_PHONE = Limit("code_fail:phone", 5, timedelta(minutes=15))
CODE_FAILURES_PER_IP = Limit("code_fail:ip", 30, timedelta(minutes=15))
CODE_REQUESTS_PER_PHONE = Limit("code_request:phone", 3, timedelta(minutes=15))
CODE_REQUESTS_PER_IP = Limit("code_request:ip", 20, timedelta(hours=1))
PASSWORD_FAILURES_PER_USER = Limit("password_fail:user", 5, timedelta(minutes=15))
PASSWORD_FAILURES_PER_IP = Limit("password_fail:ip", 30, timedelta(minutes=15))

LONGEST_WINDOW = timedelta(hours=1)


def count(session: Session, limit: Limit, key: str, now: datetime) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(AuthAttempt)
            .where(
                AuthAttempt.kind == limit.kind,
                AuthAttempt.key == key,
                AuthAttempt.at > now - limit.window,
            )
        )
        or 0
    )


def exceeded(session: Session, limit: Limit, key: str | None, now: datetime) -> bool:
    """True when `key` has used up `limit` in the current window."""
    return key is not None and count(session, limit, key, now) >= limit.max_events


def retry_after(session: Session, limit: Limit, key: str, now: datetime) -> int:
    """Seconds until the oldest event in the window drops out."""
    oldest = session.scalar(
        select(func.min(AuthAttempt.at)).where(
            AuthAttempt.kind == limit.kind,
            AuthAttempt.key == key,
            AuthAttempt.at > now - limit.window,
        )
    )
    if oldest is None:
        return 0
    return max(1, int((oldest + limit.window - now).total_seconds()))


def hit(session: Session, limit: Limit, key: str | None, now: datetime) -> None:
    if key is not None:
        session.add(AuthAttempt(kind=limit.kind, key=key, at=now))


def clear(session: Session, limit: Limit, key: str) -> None:
    session.execute(
        delete(AuthAttempt).where(AuthAttempt.kind == limit.kind, AuthAttempt.key == key)
    )


def purge(session: Session, now: datetime) -> int:
    """Forget attempts older than every window (the periodic clean-up)."""
    result = session.execute(delete(AuthAttempt).where(AuthAttempt.at < now - LONGEST_WINDOW))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
