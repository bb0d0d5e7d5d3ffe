"""The periodic venue job: a venue with no scan for 7 days becomes dormant, for 30 days archived.

A scan makes it active again when it is counted (`venues.activity.record_scans`, a minute or so
later through `checkins.counting`); this job only moves venues down. It also moves up a venue whose
counters say it was scanned in the last 7 days but whose status lags (e.g. a batch of back-dated
scans), so the stored status always matches the data.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.orm import Session

from phongdich.jobs.registry import PeriodicJob
from phongdich.models import Venue
from phongdich.venues.queries import ACTIVE, APPROVED, ARCHIVED, DORMANT

DORMANT_AFTER = timedelta(days=7)
ARCHIVED_AFTER = timedelta(days=30)


def update_activity_statuses(session: Session, now: datetime) -> dict[str, Any]:
    """Set active / dormant / archived from each venue's last scan (or approval when never
    scanned); pending, rejected and closed venues are left alone. Flush only."""
    # Never scanned: the clock starts when the venue was approved (or created, if by an official).
    since = func.coalesce(Venue.last_scan_at, Venue.approved_at, Venue.created_at)
    archived = session.execute(
        update(Venue)
        .where(Venue.status.in_((APPROVED, ACTIVE, DORMANT)), since < now - ARCHIVED_AFTER)
        .values(status=ARCHIVED)
        .execution_options(synchronize_session="fetch")
    )
    dormant = session.execute(
        update(Venue)
        .where(
            Venue.status.in_((APPROVED, ACTIVE)),
            since < now - DORMANT_AFTER,
            since >= now - ARCHIVED_AFTER,
        )
        .values(status=DORMANT)
        .execution_options(synchronize_session="fetch")
    )
    revived = session.execute(
        update(Venue)
        .where(
            Venue.status.in_((APPROVED, DORMANT, ARCHIVED)),
            Venue.last_scan_at >= now - DORMANT_AFTER,
        )
        .values(status=ACTIVE)
        .execution_options(synchronize_session="fetch")
    )
    session.flush()
    return {
        "archived": archived.rowcount,  # type: ignore[attr-defined]
        "dormant": dormant.rowcount,  # type: ignore[attr-defined]
        "active": revived.rowcount,  # type: ignore[attr-defined]
    }


PERIODIC = [
    PeriodicJob(
        name="venues.activity_status",
        every=timedelta(hours=1),
        run=update_activity_statuses,
        description="Địa điểm không có lượt quét 7 ngày: tạm ngừng; 30 ngày: lưu trữ",
    )
]
