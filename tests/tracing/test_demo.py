"""The demo fill gives tracing something to show: cases with explained candidates, confirmed
F1s with quarantine and notices, alerted venues, and a draft mốc dịch tễ awaiting a second
official."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from phongdich.demo.service import fill_demo
from phongdich.models import (
    Case,
    Contact,
    EpiTimeline,
    ExposureCandidate,
    ExposureNotice,
    HistoryLookup,
    VenueAlert,
)
from tests.conftest import T0


def count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def test_the_demo_has_cases_candidates_contacts_and_alerts(db: Session) -> None:
    result = fill_demo(db, now=T0)
    assert result["cases_created"] == 2
    cases = list(db.scalars(select(Case).order_by(Case.id)))
    assert len(cases) == 2
    candidates = list(db.scalars(select(ExposureCandidate)))
    assert candidates and all(c.explanation["rules_version"] for c in candidates)
    assert any(c.explanation["contacts"] for c in candidates)
    confirmed = count(db, Contact)
    assert confirmed == result["contacts_confirmed"] > 0
    assert count(db, ExposureNotice) == confirmed
    assert count(db, VenueAlert) > 0
    assert {t.status for t in db.scalars(select(EpiTimeline))} == {"draft"}
    # Every case's history was read for that case, and the log says so.
    refs = set(db.scalars(select(HistoryLookup.case_ref)))
    assert {c.code for c in cases} <= refs
    assert fill_demo(db, now=T0)["cases_created"] == 0  # a second run adds nothing
