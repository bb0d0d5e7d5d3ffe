"""Periodic check-in jobs: count new visits into the venue counters (`checkins.counting`), close
visits whose estimated end has passed, and delete check-ins older than the retention period (the
TraceTogether lesson: keep movement data only as long as tracing needs it). Venue counters are
separate tables and keep their aggregates."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from phongdich.audit.service import SYSTEM, record
from phongdich.checkins.counting import count_visits
from phongdich.checkins.rules import estimated_end
from phongdich.core.errors import AppError
from phongdich.jobs.registry import PeriodicJob
from phongdich.models import Venue, Visit

DEFAULT_RETENTION_DAYS = 28
MIN_RETENTION_DAYS, MAX_RETENTION_DAYS = 1, 365
CLOSE_HORIZON = timedelta(days=3)


def close_ended_visits(session: Session, now: datetime) -> dict[str, Any]:
    """Give every open visit whose default stay or day has ended its end and rule (flush only).

    Walks the venues scanned in the last few days through the (venue, check-in) index instead
    of scanning the whole visits table.
    """
    since = now - CLOSE_HORIZON
    count_visits(session, now)  # the venues' last scans, up to date with the newest visits
    venue_ids = list(session.scalars(select(Venue.id).where(Venue.last_scan_at >= since)))
    closed = 0
    for i in range(0, len(venue_ids), 200):
        for visit in session.scalars(
            select(Visit).where(
                Visit.venue_id.in_(venue_ids[i : i + 200]),
                Visit.checked_in_at >= since,
                Visit.checked_out_at.is_(None),
            )
        ):
            end, rule = estimated_end(
                visit.checked_in_at, visit.last_seen_at, visit.default_stay_minutes
            )
            if end <= now:
                visit.checked_out_at, visit.end_rule = end, rule
                closed += 1
    session.flush()
    return {"closed": closed}


def delete_old_checkins(session: Session, now: datetime, *, retention_days: int) -> dict[str, Any]:
    """Delete visits that began more than `retention_days` ago; log how many and which span."""
    if not MIN_RETENTION_DAYS <= retention_days <= MAX_RETENTION_DAYS:
        raise AppError(
            "checkin.retention_invalid",
            "Thời hạn lưu lượt khai báo phải từ {min} đến {max} ngày.",
            {
                "retention_days": retention_days,
                "min": MIN_RETENTION_DAYS,
                "max": MAX_RETENTION_DAYS,
            },
        )
    count_visits(session, now)  # anything still queued is counted before it goes
    cutoff = now - timedelta(days=retention_days)
    old = Visit.checked_in_at < cutoff
    count, oldest, newest = session.execute(
        select(func.count(), func.min(Visit.checked_in_at), func.max(Visit.checked_in_at)).where(
            old
        )
    ).one()
    if count:
        session.execute(delete(Visit).where(old).execution_options(synchronize_session=False))
    result = {
        "deleted": int(count),
        "cutoff": cutoff.isoformat(),
        "retention_days": retention_days,
        "oldest_deleted": oldest.isoformat() if oldest else None,
        "newest_deleted": newest.isoformat() if newest else None,
    }
    record(session, SYSTEM, "checkin.retention", now=now, object_type="visits", details=result)
    session.flush()
    return result


def periodic(retention_days: int = DEFAULT_RETENTION_DAYS) -> list[PeriodicJob]:
    """The jobs, with the retention period the entry point read from its settings."""
    return [
        PeriodicJob(
            name="checkins.count_visits",
            every=timedelta(minutes=1),
            run=count_visits,
            description="Cộng các lượt khai báo mới vào số liệu hoạt động của địa điểm",
        ),
        PeriodicJob(
            name="checkins.close_ended",
            every=timedelta(minutes=15),
            run=close_ended_visits,
            description="Ghi giờ ra ước tính cho các lượt đã hết thời gian lưu lại",
        ),
        PeriodicJob(
            name="checkins.retention",
            every=timedelta(days=1),
            run=lambda session, now: delete_old_checkins(
                session, now, retention_days=retention_days
            ),
            description=f"Xoá lượt khai báo cũ hơn {retention_days} ngày",
        ),
    ]
