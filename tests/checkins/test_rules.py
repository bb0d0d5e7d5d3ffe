"""Golden tests of the check-out rules on a real database: which rule ended each visit, when."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from phongdich.checkins.rules import (
    DEFAULT_STAY,
    END_OF_DAY,
    EXPLICIT,
    NEXT_CHECKIN,
    closing,
    end_of_local_day,
)
from phongdich.checkins.service import (
    CITIZEN_SCAN,
    CREATED,
    EXTENDED,
    STAFF_SCAN,
    check_out,
    record_check_in,
)
from phongdich.checkins.tasks import close_ended_visits
from phongdich.models import Visit
from tests.checkins.factories import citizen_with_person, venue
from tests.conftest import T0
from tests.venues.factories import actor_of

H = timedelta(hours=1)
M = timedelta(minutes=1)


def test_local_midnight_is_in_vietnam_time() -> None:
    # 23:30 in Vietnam on 15/11 is 16:30 UTC; the day ends at 17:00 UTC.
    assert end_of_local_day(datetime(2021, 11, 15, 16, 30, tzinfo=UTC)) == datetime(
        2021, 11, 15, 17, 0, tzinfo=UTC
    )
    # 00:30 on 16/11 in Vietnam (17:30 UTC on 15/11) belongs to 16/11.
    assert end_of_local_day(datetime(2021, 11, 15, 17, 30, tzinfo=UTC)) == datetime(
        2021, 11, 16, 17, 0, tzinfo=UTC
    )


def test_closing_picks_the_earliest_rule() -> None:
    start = T0  # 09:00 local
    assert closing(start, start, 90, start + H) == (start + H, NEXT_CHECKIN)
    assert closing(start, start, 90, start + 3 * H) == (start + 90 * M, DEFAULT_STAY)
    assert closing(start, start, 90, None) == (start + 90 * M, DEFAULT_STAY)
    # 12 h at a hotel from 20:00 local: capped at midnight.
    evening = T0 + 11 * H
    assert closing(evening, evening, 720, None) == (end_of_local_day(evening), END_OF_DAY)
    # Touching ends count for the next check-in (it is not after the estimate).
    assert closing(start, start, 60, start + H) == (start + H, NEXT_CHECKIN)


def test_a_day_of_visits_gets_the_right_ends(db: Session) -> None:
    user, me = citizen_with_person(db)
    actor = actor_of(db, user)
    pho, market, hotel = venue(db), venue(db, type_code="market"), venue(db, type_code="lodging")

    def scan(v, at):  # type: ignore[no-untyped-def]
        return record_check_in(db, actor, person=me, venue=v, now=at, at=at, source=CITIZEN_SCAN)

    a = scan(pho, T0)  # 09:00 restaurant (90 min)
    assert a.outcome == CREATED and a.visit.checked_out_at is None
    again = scan(pho, T0 + 3 * M)  # a second scan within minutes extends
    assert again.outcome == EXTENDED and again.visit.id == a.visit.id
    assert a.visit.last_seen_at == T0 + 3 * M
    b = scan(market, T0 + H)  # 10:00 market: the restaurant visit ends at 10:00
    assert (a.visit.checked_out_at, a.visit.end_rule) == (T0 + H, NEXT_CHECKIN)
    c = scan(pho, T0 + 4 * H)  # 13:00: the market (60 min) ended by its default stay
    assert (b.visit.checked_out_at, b.visit.end_rule) == (T0 + 2 * H, DEFAULT_STAY)
    check_out(db, actor, c.visit, now=T0 + 5 * H)
    assert (c.visit.checked_out_at, c.visit.end_rule) == (T0 + 5 * H, EXPLICIT)
    d = scan(hotel, T0 + 11 * H)  # 20:00 hotel (12 h): capped at midnight by the job
    close_ended_visits(db, T0 + 16 * H)
    assert (d.visit.checked_out_at, d.visit.end_rule) == (T0 + 15 * H, END_OF_DAY)
    assert db.scalar(select(func.count()).select_from(Visit).where(Visit.person_id == me.id)) == 4


def test_a_late_scan_is_closed_by_the_check_in_that_followed(db: Session) -> None:
    user, me = citizen_with_person(db)
    actor = actor_of(db, user)
    pho, market = venue(db), venue(db, type_code="market")
    later = record_check_in(db, actor, person=me, venue=market, now=T0 + H, source=CITIZEN_SCAN)
    early = record_check_in(
        db, actor, person=me, venue=pho, now=T0 + 2 * H, at=T0 + 30 * M, source=CITIZEN_SCAN
    )
    assert (early.visit.checked_out_at, early.visit.end_rule) == (T0 + H, NEXT_CHECKIN)
    assert later.visit.checked_out_at is None


def test_staff_rescans_within_minutes_extend_and_checked_out_visits_reopen(db: Session) -> None:
    from phongdich.auth.roles import Role
    from tests.factories import venue_user

    _, me = citizen_with_person(db)
    pho = venue(db)
    staff = actor_of(db, venue_user(db, Role.VENUE_STAFF, pho.id))
    first = record_check_in(db, staff, person=me, venue=pho, now=T0, source=STAFF_SCAN)
    check_out(db, staff, first.visit, now=T0 + 2 * M)
    back = record_check_in(db, staff, person=me, venue=pho, now=T0 + 4 * M, source=STAFF_SCAN)
    assert back.outcome == EXTENDED and back.visit.checked_out_at is None
    new = record_check_in(db, staff, person=me, venue=pho, now=T0 + 30 * M, source=STAFF_SCAN)
    assert new.outcome == CREATED
    assert (first.visit.checked_out_at, first.visit.end_rule) == (T0 + 30 * M, NEXT_CHECKIN)
