"""New visits reach the venue counters through the counting queue: each visit counted once,
whatever the path that stored it, however many runs take the queue at once."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from phongdich.auth.roles import Role
from phongdich.checkins.counting import count_visits
from phongdich.checkins.service import STAFF_SCAN, record_check_in
from phongdich.checkins.tasks import periodic
from phongdich.db import make_session_factory
from phongdich.models import UncountedVisit, Venue, VenueDailyActivity, VenueVisitor, Visit
from tests.checkins.factories import citizen_with_person, venue
from tests.conftest import T0, FreshDatabase, migrated_engine
from tests.factories import venue_user
from tests.venues.factories import actor_of

H = timedelta(hours=1)


def _queued(db: Session) -> int:
    return int(db.scalar(select(func.count()).select_from(UncountedVisit)) or 0)


def _daily(db: Session, place: Venue) -> list[tuple[int, int]]:
    rows = db.scalars(select(VenueDailyActivity).where(VenueDailyActivity.venue_id == place.id))
    return [(d.scans, d.visitors) for d in rows]


def test_visits_are_counted_by_the_job_once(db: Session) -> None:
    pho = venue(db)
    pho.status = "dormant"  # a week without scans
    staff = actor_of(db, venue_user(db, Role.VENUE_STAFF, pho.id))
    (_, an), (_, binh) = citizen_with_person(db, "Nông Văn An"), citizen_with_person(db, "Bình")
    for person, at in ((an, T0), (an, T0 + 2 * H), (binh, T0 + 3 * H)):
        record_check_in(db, staff, person=person, venue=pho, now=at, source=STAFF_SCAN)
    db.flush()
    assert _queued(db) == 3
    assert (
        db.scalar(select(VenueDailyActivity).where(VenueDailyActivity.venue_id == pho.id)) is None
    )

    assert count_visits(db, T0 + 4 * H) == {"counted": 3, "gone": 0}
    assert _daily(db, pho) == [(3, 2)]  # An twice, Bình once
    people = db.scalars(select(VenueVisitor.person_key).where(VenueVisitor.venue_id == pho.id))
    assert sorted(people) == sorted([str(an.id), str(binh.id)])
    db.refresh(pho)
    assert (pho.status, pho.last_scan_at) == ("active", T0 + 3 * H)  # revived by the count
    assert _queued(db) == 0
    assert count_visits(db, T0 + 5 * H) == {"counted": 0, "gone": 0}  # nothing twice


def test_a_visit_deleted_while_queued_is_not_counted(db: Session) -> None:
    pho = venue(db)
    staff = actor_of(db, venue_user(db, Role.VENUE_STAFF, pho.id))
    _, an = citizen_with_person(db)
    done = record_check_in(db, staff, person=an, venue=pho, now=T0, source=STAFF_SCAN)
    db.flush()
    db.execute(delete(Visit).where(Visit.id == done.visit.id))
    assert count_visits(db, T0 + H) == {"counted": 0, "gone": 1}
    assert (
        db.scalar(select(VenueDailyActivity).where(VenueDailyActivity.venue_id == pho.id)) is None
    )


def test_the_job_runs_every_minute_and_before_the_jobs_that_read_counters() -> None:
    names = [(job.name, job.every) for job in periodic()]
    assert names[0] == ("checkins.count_visits", timedelta(minutes=1))


def test_runs_side_by_side_count_each_visit_once(fresh_database: FreshDatabase) -> None:
    engine = migrated_engine(fresh_database)
    factory = make_session_factory(engine)
    with factory() as session:
        places = [venue(session), venue(session)]
        staff = [actor_of(session, venue_user(session, Role.VENUE_STAFF, p.id)) for p in places]
        people = [citizen_with_person(session, f"Người {i}")[1] for i in range(30)]
        for i, person in enumerate(people):
            for k, place in enumerate(places):
                at = T0 + (2 * i + k) * timedelta(minutes=10)
                record_check_in(session, staff[k], person=person, venue=place, now=at,
                                source=STAFF_SCAN)  # fmt: skip
        session.commit()
        place_ids = [p.id for p in places]
    barrier = threading.Barrier(4)
    results: list[dict[str, int]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with factory() as session:
                barrier.wait()
                results.append(count_visits(session, T0 + 24 * H))
                session.commit()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sum(r["counted"] for r in results) == 60
    with factory() as session:
        assert _queued(session) == 0
        for place_id in place_ids:
            days = session.scalars(
                select(VenueDailyActivity).where(VenueDailyActivity.venue_id == place_id)
            ).all()
            assert sum(d.scans for d in days) == 30
            assert sum(d.visitors for d in days) == 30
            assert session.get_one(Venue, place_id).status == "active"
    engine.dispose()
