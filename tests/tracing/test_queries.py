"""The bounded reads behind F1 candidates: they must find exactly what the co-presence rules
would find in every visit, while reading only the visits that can matter."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from phongdich.models import Person, Venue
from phongdich.tracing.exposure import Candidate, Category, EndRule, find_candidates
from phongdich.tracing.queries import SameDay, contact_reads, household_of, stays_of_person
from phongdich.tracing.rules import exposure_rules_on
from phongdich.tracing.service import find_for
from tests.tracing.factories import at, person, venue, visit

RULES = exposure_rules_on(date(2021, 11, 15))  # 2 minutes of clock skew, 30 of lingering air
WINDOW = (at(12, 0), at(16, 0))


def summary(found: list[Candidate]) -> list[tuple[object, ...]]:
    return [
        (
            c.person_id,
            c.category,
            c.total_overlap,
            c.best_daily_overlap,
            c.household,
            [(x.case_visit_id, x.contact_visit_id, x.day, x.overlap) for x in c.contacts],
        )
        for c in found
    ]


def every_visit_says(db: Session, case: Person, people: list[Person]) -> list[Candidate]:
    """The rules applied to every stay of everyone: what the bounded reads must equal."""
    always = (
        datetime(2000, 1, 1, tzinfo=WINDOW[0].tzinfo),
        datetime(2100, 1, 1, tzinfo=WINDOW[0].tzinfo),
    )
    own = stays_of_person(db, case.id, WINDOW, RULES)
    sources = [s for s in own if s.end - s.start >= RULES.min_case_stay]
    others = [s for p in people for s in stays_of_person(db, p.id, always, RULES)]
    return find_candidates(
        sources,
        others,
        RULES,
        case_person_id=case.id,
        window=WINDOW,
        household=household_of(db, case),
    )


def random_visits(
    db: Session, rng: random.Random, who: Person, venues: list[Venue], n: int
) -> None:
    """Visits of every kind around the window: checked out (some across midnight, some for
    most of a day), open (some extended by re-scans, some with no recorded stay), checked out
    the instant they began, and checked out before they began (bad data, read as open)."""
    for _ in range(n):
        start = at(11, 0) + timedelta(minutes=rng.randrange(0, 6 * 24 * 60))
        kind = rng.random()
        if kind < 0.45:
            minutes = rng.choice([5, 20, 45, 90, 300, 20 * 60])
            visit(db, who, rng.choice(venues), start, start + timedelta(minutes=minutes))
        elif kind < 0.85:
            v = visit(
                db, who, rng.choice(venues), start, None, stay_minutes=rng.choice([0, 30, 60, 240])
            )
            v.last_seen_at = start + timedelta(minutes=rng.choice([0, 0, 4, 180]))
        elif kind < 0.93:
            visit(db, who, rng.choice(venues), start, start)
        else:
            visit(db, who, rng.choice(venues), start, start - timedelta(minutes=30))
    db.flush()


@pytest.mark.parametrize("seed", range(6))
def test_bounded_reads_find_what_every_visit_says(db: Session, seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311  reproducible test data, not secrets
    venues = [venue(db) for _ in range(3)]
    case = person(db, address="Số 5 ngõ Chung")
    people = [person(db) for _ in range(14)] + [person(db, address="Số 5 ngõ Chung")]
    random_visits(db, rng, case, venues, 8)
    for p in people:
        random_visits(db, rng, p, venues, 6)

    found = find_for(db, case, WINDOW, RULES)

    assert summary(found.candidates) == summary(every_visit_says(db, case, people))


def test_an_open_visit_begun_hours_before_still_counts(db: Session) -> None:
    market, case, early = venue(db), person(db), person(db)
    visit(db, case, market, at(13, 15), at(13, 16))
    # In at 09:00, re-scanned until 14:00, no check-out: there until 16:00 by the default stay.
    v = visit(db, early, market, at(13, 9), None, stay_minutes=120)
    v.last_seen_at = at(13, 14)
    db.flush()

    (found,) = find_for(db, case, WINDOW, RULES).candidates
    assert found.person_id == early.id and found.category is Category.F1_LIKELY
    assert found.contacts[0].contact_end_rule is EndRule.DEFAULT_STAY
    assert found.best_daily_overlap == timedelta(minutes=62)  # 14:58 (skew) to 16:00


def test_a_check_out_before_the_check_in_is_read_as_open(db: Session) -> None:
    market, case, odd = venue(db), person(db), person(db)
    visit(db, case, market, at(13, 15), at(13, 16))
    visit(db, odd, market, at(13, 14), at(13, 13), stay_minutes=120)  # bad data: ends at 16:00

    (found,) = find_for(db, case, WINDOW, RULES).candidates
    assert found.person_id == odd.id
    assert found.contacts[0].contact_end_rule is EndRule.DEFAULT_STAY


def test_a_long_stay_checked_in_the_day_before_counts(db: Session) -> None:
    market, case, night = venue(db), person(db), person(db)
    visit(db, case, market, at(13, 15), at(13, 16))
    visit(db, night, market, at(12, 20), at(13, 15, 30))  # nineteen and a half hours

    (found,) = find_for(db, case, WINDOW, RULES).candidates
    assert found.person_id == night.id
    assert found.best_daily_overlap == timedelta(minutes=32)  # 14:58 to 15:30


def test_people_there_the_same_day_are_read_as_ids_and_explained_on_demand(db: Session) -> None:
    market, other = venue(db), venue(db)
    case, evening, overnight, instant, elsewhere, before = (person(db) for _ in range(6))
    visit(db, case, market, at(13, 9), at(13, 10))
    visit(db, evening, market, at(13, 19), at(13, 20))
    visit(db, overnight, market, at(12, 22), at(13, 1))  # into the case's day, after midnight
    visit(db, instant, market, at(13, 12), at(13, 12))  # checked out as it began: no time there
    visit(db, elsewhere, other, at(13, 9), at(13, 10))
    visit(db, before, market, at(12, 9), at(12, 10))

    sources = stays_of_person(db, case.id, WINDOW, RULES)
    same_day = SameDay(db, contact_reads(sources, RULES, WINDOW), RULES, case.id)
    assert same_day.people == {evening.id, overnight.id}
    (stay,) = same_day.visits_of(overnight.id)
    assert (stay.start, stay.end) == (at(12, 22), at(13, 1))
    assert same_day.visits_of(instant.id) == []

    found = {c.person_id: c.category for c in find_for(db, case, WINDOW, RULES).candidates}
    assert found == {
        evening.id: Category.SAME_VENUE_SAME_DAY,
        overnight.id: Category.SAME_VENUE_SAME_DAY,
    }


def test_nothing_is_read_without_qualifying_stays(db: Session) -> None:
    market, case, other = venue(db), person(db), person(db)
    visit(db, case, market, at(13, 9), at(13, 9, 5))  # a passer-by: below the minimum stay
    visit(db, other, market, at(13, 9), at(13, 10))

    found = find_for(db, case, WINDOW, RULES)
    assert (found.candidates, found.others, found.same_day.people) == ([], [], frozenset())
