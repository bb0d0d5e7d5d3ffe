"""Time as an argument: services take `now`; entry points get it from a Clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """The real clock, always tz-aware UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock for tests and demos that moves only when told to."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **kwargs: float) -> None:
        self.at = self.at + timedelta(**kwargs)


def to_local(moment: datetime) -> datetime:
    """Convert a stored UTC moment to Asia/Ho_Chi_Minh for display."""
    return moment.astimezone(VN_TZ)


def local_day(moment: datetime) -> date:
    """The calendar day in Vietnam on which a moment falls."""
    return to_local(moment).date()


def format_datetime(moment: datetime | None) -> str:
    """dd/mm/yyyy HH:MM in Vietnam time, the way every page shows a moment."""
    if moment is None:
        return ""
    return to_local(moment).strftime("%d/%m/%Y %H:%M")


def format_date(day: date | datetime | None) -> str:
    """dd/mm/yyyy; a datetime is first converted to Vietnam time."""
    if day is None:
        return ""
    if isinstance(day, datetime):
        day = local_day(day)
    return day.strftime("%d/%m/%Y")
