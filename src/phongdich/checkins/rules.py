"""When a visit ends, when no one said: the rules, as pure functions of times.

A visit without a check-out ends at the earliest of
- the person's next check-in anywhere (`next_checkin`),
- the venue type's default stay after the person was last seen there (`default_stay`),
- local midnight (Asia/Ho_Chi_Minh) after the check-in (`end_of_day_cap`);
and a check-out button ends it where the person says (`explicit`). The rule that applied is
stored with the visit. Scanning the same person at the same place again within
`EXTEND_WINDOW` extends the visit instead of starting a new one.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta

from phongdich.core.clock import VN_TZ, to_local

EXPLICIT, NEXT_CHECKIN, DEFAULT_STAY, END_OF_DAY = (
    "explicit",
    "next_checkin",
    "default_stay",
    "end_of_day_cap",
)
END_RULES = (EXPLICIT, NEXT_CHECKIN, DEFAULT_STAY, END_OF_DAY)
EXTEND_WINDOW = timedelta(minutes=5)
FALLBACK_STAY_MINUTES = 60  # a venue whose type says nothing


def end_of_local_day(at: datetime) -> datetime:
    """Midnight in Vietnam after `at`, in UTC."""
    return _midnight_after(to_local(at).date())


@functools.lru_cache(maxsize=512)
def _midnight_after(day: date) -> datetime:
    # In UTC, like the times it is compared with: comparing datetimes of two zones asks each
    # for its offset, which made the rules several times slower (a device batch applies them
    # to thousands of scans).
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=VN_TZ).astimezone(UTC)


def estimated_end(
    checked_in_at: datetime, last_seen_at: datetime, stay_minutes: int
) -> tuple[datetime, str]:
    """Where an open visit ends if nothing else happens: default stay, capped at midnight."""
    stay_end = last_seen_at + timedelta(minutes=stay_minutes)
    cap = end_of_local_day(checked_in_at)
    return (stay_end, DEFAULT_STAY) if stay_end <= cap else (cap, END_OF_DAY)


def closing(
    checked_in_at: datetime,
    last_seen_at: datetime,
    stay_minutes: int,
    next_checkin_at: datetime | None,
) -> tuple[datetime, str]:
    """The end of a visit given the person's next check-in elsewhere (if any)."""
    end, rule = estimated_end(checked_in_at, last_seen_at, stay_minutes)
    if next_checkin_at is not None and next_checkin_at <= end:
        return max(next_checkin_at, checked_in_at), NEXT_CHECKIN
    return end, rule


def extends(
    *,
    same_place: bool,
    last_seen_at: datetime,
    checked_out_at: datetime | None,
    end_rule: str | None,
    at: datetime,
) -> bool:
    """True when a scan at `at` continues the visit rather than starting a new one: same place,
    within a few minutes of the last sighting, and not ended by a later check-in elsewhere."""
    if not same_place or abs(at - last_seen_at) > EXTEND_WINDOW:
        return False
    return checked_out_at is None or end_rule != NEXT_CHECKIN
