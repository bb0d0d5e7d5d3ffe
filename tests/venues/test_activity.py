"""Activity counters: scans, distinct people per day and over 1/7/30 days, status transitions."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from phongdich.core.clock import FixedClock, local_day
from phongdich.jobs.registry import periodic_jobs
from phongdich.models import Venue, VenueDailyActivity, VenueVisitor
from phongdich.venues.activity import (
    POSTER_CHECK,
    Scan,
    record_scan,
    record_scans,
    venue_activity,
)
from phongdich.venues.tasks import update_activity_statuses
from tests.conftest import T0
from tests.venues.orm_factories import make_venue


def _daily(db: Session, venue: Venue) -> dict[str, tuple[int, int, int]]:
    rows = db.scalars(
        select(VenueDailyActivity)
        .where(VenueDailyActivity.venue_id == venue.id)
        .order_by(VenueDailyActivity.day)
        .execution_options(populate_existing=True)
    )
    return {r.day.isoformat(): (r.scans, r.visitors, r.poster_checks) for r in rows}


def test_scans_and_distinct_people_per_local_day(db: Session) -> None:
    venue = make_venue(db)
    # T0 is 09:00 in Vietnam on 15/11/2021; 23:30 UTC is 06:30 the next local day.
    record_scan(db, venue, person_key="an", at=T0)
    record_scan(db, venue, person_key="an", at=T0 + timedelta(hours=3))  # back in the afternoon
    record_scan(db, venue, person_key="binh", at=T0 + timedelta(hours=4))
    record_scan(db, venue, person_key="an", at=T0.replace(hour=23, minute=30))
    assert _daily(db, venue) == {"2021-11-15": (3, 2, 0), "2021-11-16": (1, 1, 0)}
    assert venue.last_scan_at == T0.replace(hour=23, minute=30)
    visitors = dict(
        db.execute(
            select(VenueVisitor.person_key, VenueVisitor.last_day).where(
                VenueVisitor.venue_id == venue.id
            )
        ).all()
    )
    assert {k: d.isoformat() for k, d in visitors.items()} == {
        "an": "2021-11-16",
        "binh": "2021-11-15",
    }


def test_poster_check_is_recorded_but_not_a_visit(db: Session) -> None:
    venue = make_venue(db, status="dormant")
    record_scan(db, venue, person_key="user:1", at=T0, kind=POSTER_CHECK)
    assert _daily(db, venue) == {"2021-11-15": (0, 0, 1)}
    assert venue.last_poster_check_at == T0
    assert venue.last_scan_at is None
    assert venue.status == "dormant"  # checking the poster does not make a venue active
    activity = venue_activity(db, [venue.id], now=T0)[venue.id]
    assert activity.scans == {1: 0, 7: 0, 30: 0}
    assert activity.last_poster_check_at == T0


def test_windows_of_1_7_and_30_days(db: Session) -> None:
    venue = make_venue(db)
    now = T0 + timedelta(days=40)
    # People: "old" 35 days ago only; "month" 20 days ago; "week" 5 days and 20 days ago;
    # "today" today twice, and 20 days ago.
    plan = [("old", 35), ("month", 20), ("week", 20), ("week", 5), ("today", 20)]
    plan += [("today", 0), ("today", 0)]
    for person, days_ago in plan:
        record_scan(db, venue, person_key=person, at=now - timedelta(days=days_ago))
    activity = venue_activity(db, [venue.id], now=now)[venue.id]
    assert activity.scans == {1: 2, 7: 3, 30: 6}
    assert activity.people == {1: 1, 7: 2, 30: 3}
    assert activity.last_scan_at == now
    # Every scan counted once in the daily counters, whatever the window.
    assert sum(s for s, _v, _p in _daily(db, venue).values()) == len(plan)


def test_batch_equals_one_by_one(db: Session) -> None:
    one, batch = make_venue(db), make_venue(db)
    scans = [
        (person, T0 + timedelta(hours=h))
        for h, person in enumerate(["an", "binh", "an", "chi", "binh", "an"] * 9)
    ]  # 54 scans over a little more than two local days
    for venue in (one, batch):  # "an" was seen the day before, before this batch
        record_scan(db, venue, person_key="an", at=T0 - timedelta(days=1))
    for person, at in scans:
        record_scan(db, one, person_key=person, at=at)
    record_scans(db, [Scan(batch.id, p, at) for p, at in reversed(scans)])  # any order
    assert _daily(db, one) == _daily(db, batch)
    assert len(_daily(db, one)) == 4
    assert sum(v for _s, v, _p in _daily(db, one).values()) == 1 + 3 + 3 + 3
    assert one.last_scan_at == batch.last_scan_at == scans[-1][1]
    a = venue_activity(db, [one.id, batch.id], now=scans[-1][1])
    assert (a[one.id].scans, a[one.id].people) == (a[batch.id].scans, a[batch.id].people)


def test_late_scan_for_an_earlier_day_counts_the_scan_not_a_new_person(db: Session) -> None:
    venue = make_venue(db)
    record_scan(db, venue, person_key="an", at=T0 + timedelta(days=1))
    record_scan(db, venue, person_key="an", at=T0)  # uploaded late by an offline scanner
    assert _daily(db, venue) == {"2021-11-15": (1, 0, 0), "2021-11-16": (1, 1, 0)}
    assert venue.last_scan_at == T0 + timedelta(days=1)  # never moves back


def test_status_goes_dormant_after_7_days_archived_after_30_and_recovers(db: Session) -> None:
    clock = FixedClock(T0)
    venue = make_venue(db, status="approved")
    record_scan(db, venue, person_key="an", at=clock.now())
    assert venue.status == "active"

    def run_job() -> str:
        update_activity_statuses(db, clock.now())
        db.refresh(venue)
        return venue.status

    clock.advance(days=7, minutes=-1)
    assert run_job() == "active"
    clock.advance(minutes=2)
    assert run_job() == "dormant"
    clock.advance(days=23, minutes=-2)
    assert run_job() == "dormant"
    clock.advance(minutes=2)
    assert run_job() == "archived"

    record_scan(db, venue, person_key="binh", at=clock.now())
    assert venue.status == "active"  # recovers on the next scan, at once
    assert run_job() == "active"
    assert local_day(venue.last_scan_at) == local_day(clock.now())  # type: ignore[arg-type]


def test_job_leaves_pending_and_closed_alone_and_starts_unscanned_at_approval(
    db: Session,
) -> None:
    pending = make_venue(db, status="pending")
    closed = make_venue(db, status="closed")
    never = make_venue(db, status="approved", created_at=T0)
    result = update_activity_statuses(db, T0 + timedelta(days=8))
    for v in (pending, closed, never):
        db.refresh(v)
    assert (pending.status, closed.status, never.status) == ("pending", "closed", "dormant")
    assert result["dormant"] >= 1
    assert "venues.activity_status" in {job.name for job in periodic_jobs()}
