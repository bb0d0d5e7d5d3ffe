"""Periodic clean-up of sign-in state."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from phongdich.auth import ratelimit
from phongdich.auth.sessions import purge_sessions
from phongdich.auth.signin import purge_expired_codes
from phongdich.jobs.registry import PeriodicJob


def purge_sign_in_state(session: Session, now: datetime) -> dict[str, Any]:
    """Forget expired sessions, old codes and attempts outside every rate-limit window."""
    return {
        "sessions": purge_sessions(session, now),
        "codes": purge_expired_codes(session, now),
        "attempts": ratelimit.purge(session, now),
    }


PERIODIC = [
    PeriodicJob(
        "auth.purge",
        timedelta(hours=1),
        purge_sign_in_state,
        "Xóa phiên đăng nhập hết hạn, mã cũ và lượt thử quá hạn",
    )
]
