"""How a case ends: recovered or died on a day, set once by a health officer of its area,
changed only by an explicit, audited correction with a reason; shown on the case page and in
the counts; the same over the API."""

from __future__ import annotations

import re
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from phongdich.audit.service import Actor
from phongdich.core.errors import AppError, Conflict, Forbidden
from phongdich.models import Area, AuditEntry, Case, Person
from phongdich.tracing.insights import area_counts
from phongdich.tracing.outcomes import set_outcome
from phongdich.tracing.service import register_case
from tests.conftest import T0
from tests.factories import HOA_AN, sign_in
from tests.tracing.factories import officer, person
from tests.web.test_api import assert_error

CONFIRMED = date(2021, 11, 10)


def a_case(db: Session, actor: Actor, name: str = "Nông Văn Ca") -> Case:
    return register_case(db, actor, person=person(db, name), confirmed_on=CONFIRMED, now=T0)


def test_an_outcome_is_set_once_and_changed_only_by_a_correction(db: Session) -> None:
    _me, actor = officer(db)
    case = a_case(db, actor)
    refusals = [
        ("recovered", None, "case.outcome_date_required"),
        ("recovered", date(2021, 11, 9), "case.outcome_before_confirmation"),
        ("died", date(2021, 11, 16), "case.outcome_in_future"),  # T0 is 15/11 in Vietnam
        ("active", date(2021, 11, 14), "case.outcome_invalid"),
    ]
    for outcome, on, code in refusals:
        with pytest.raises(AppError) as err:
            set_outcome(db, actor, case, outcome, on=on, now=T0)
        assert err.value.code == code and err.value.message
    with pytest.raises(AppError) as err:
        set_outcome(db, actor, case, "recovered", on=date(2021, 11, 9), now=T0)
    assert "10/11/2021" in err.value.message  # the confirmation day, as people write it

    set_outcome(db, actor, case, "recovered", on=date(2021, 11, 14), now=T0)
    assert (case.status, case.outcome_on) == ("recovered", date(2021, 11, 14))
    set_outcome(db, actor, case, "recovered", on=date(2021, 11, 14), now=T0)  # a retry: no-op
    with pytest.raises(Conflict) as conflict:
        set_outcome(db, actor, case, "died", on=date(2021, 11, 15), now=T0)
    assert conflict.value.code == "case.outcome_already_set"
    with pytest.raises(AppError) as err:
        set_outcome(db, actor, case, "died", on=date(2021, 11, 15), now=T0, correction=True)
    assert err.value.code == "case.correction_reason_required"
    set_outcome(db, actor, case, "died", on=date(2021, 11, 15), now=T0, correction=True,
                reason="Nhập nhầm người")  # fmt: skip
    assert (case.status, case.outcome_on) == ("died", date(2021, 11, 15))
    entries = list(
        db.scalars(
            select(AuditEntry)
            .where(AuditEntry.action.like("case.outcome.%"), AuditEntry.object_id == str(case.id))
            .order_by(AuditEntry.id)
        )
    )
    assert [e.action for e in entries] == ["case.outcome.set", "case.outcome.correct"]
    assert entries[1].details["from"] == {"status": "recovered", "outcome_on": "2021-11-14"}
    assert entries[1].details["reason"] == "Nhập nhầm người"


def test_withdrawing_an_outcome_and_who_may_set_one(db: Session) -> None:
    _me, actor = officer(db)
    case = a_case(db, actor)
    with pytest.raises(AppError) as err:
        set_outcome(db, actor, case, "died", on=CONFIRMED, now=T0, correction=True, reason="x")
    assert err.value.code == "case.no_outcome_to_correct"
    _other, elsewhere = officer(db, HOA_AN)
    with pytest.raises(Forbidden):
        set_outcome(db, elsewhere, case, "recovered", on=CONFIRMED, now=T0)
    set_outcome(db, actor, case, "recovered", on=CONFIRMED, now=T0)
    set_outcome(db, actor, case, "active", on=None, now=T0, correction=True, reason="Chưa khỏi")
    assert (case.status, case.outcome_on) == ("active", None)
    set_outcome(db, actor, case, "recovered", on=CONFIRMED, now=T0)
    # Reinfected and registered again: the old case may not become active beside the new one.
    again = register_case(
        db, actor, person=_person_of(db, case), confirmed_on=date(2021, 11, 15), now=T0
    )
    assert again.status == "active"
    with pytest.raises(Conflict) as conflict:
        set_outcome(db, actor, case, "active", on=None, now=T0, correction=True, reason="Nhầm")
    assert conflict.value.code == "case.already_active"


def _person_of(db: Session, case: Case) -> Person:
    found = db.get(Person, case.person_id)
    assert found is not None
    return found


def test_counts_show_recovered_and_dead_in_the_period(db: Session) -> None:
    _me, actor = officer(db)
    first, second, third = (a_case(db, actor, n) for n in ("Ca Một", "Ca Hai", "Ca Ba"))
    set_outcome(db, actor, first, "recovered", on=date(2021, 11, 14), now=T0)
    set_outcome(db, actor, second, "died", on=date(2021, 11, 12), now=T0)
    set_outcome(db, actor, third, "recovered", on=date(2021, 11, 11), now=T0)
    district = db.get(Area, first.area_id)
    assert district is not None and actor.principal is not None
    report = area_counts(
        db, actor.principal, district, date_from=date(2021, 11, 12), date_to=date(2021, 11, 15),
        today=date(2021, 11, 15),
    )  # fmt: skip
    assert report.total is not None
    assert (report.total.recovered, report.total.died) == (1, 1)  # the 11th is before the period


def test_the_case_page_and_the_api(client: TestClient, db: Session) -> None:
    me, actor = officer(db)
    case = a_case(db, actor)
    csrf = sign_in(client, me)
    page = client.get(f"/tracing/cases/{case.id}").text
    assert "Đang điều trị" in page and "Ghi nhận kết quả" in page
    r = client.post(
        f"/tracing/cases/{case.id}/outcome",
        data={"csrf_token": csrf, "outcome": "recovered", "on": "2021-11-14"},
    )
    assert r.status_code == 200
    assert re.search(r"Khỏi bệnh</span>\s*14/11/2021", r.text)
    assert "Đính chính kết quả điều trị" in r.text and "Ghi nhận kết quả" not in r.text
    url = f"/api/v1/tracing/cases/{case.id}/outcome"
    assert_error(
        client.post(url, json={"outcome": "died", "on": "2021-11-15"},
                    headers={"x-csrf-token": csrf}),
        409, "case.outcome_already_set",
    )  # fmt: skip
    r = client.post(
        url,
        json={"outcome": "died", "on": "2021-11-15", "correction": True, "reason": "Nhập nhầm"},
        headers={"x-csrf-token": csrf},
    )
    assert r.status_code == 200 and r.json()["status"] == "died"
    assert r.json()["outcome_on"] == "2021-11-15"
    assert "Tử vong" in client.get("/tracing/cases").text
    other, _ = officer(db, HOA_AN)
    client.cookies.clear()
    csrf_other = sign_in(client, other)
    assert_error(
        client.post(url, json={"outcome": "recovered", "on": "2021-11-15"},
                    headers={"x-csrf-token": csrf_other}),
        403, "forbidden",
    )  # fmt: skip
