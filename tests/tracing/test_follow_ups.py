"""The commune health station's daily follow-up: the day's list for its area (missed days
first), one record per person and day (a repeat changes nothing, a change updates and is
audited), the same over the API, refusals for other areas, and the counts moving with it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from phongdich.audit.service import Actor
from phongdich.core.clock import FixedClock
from phongdich.core.errors import AppError, Forbidden
from phongdich.models import Area, AuditEntry, Contact, FollowUp, Person, User
from phongdich.tracing.contacts import contact_becomes_case, decide
from phongdich.tracing.follow_ups import due_follow_ups, record_follow_up
from phongdich.tracing.insights import area_counts
from phongdich.tracing.service import candidates_of, compute_candidates, register_case
from phongdich.tracing.tasks import mark_missed_follow_ups
from tests.conftest import T0
from tests.factories import HOA_AN, SONG_HIEN, sign_in
from tests.tracing.factories import at, officer, person, venue, visit
from tests.web.test_api import assert_error

DAY = timedelta(days=1)


@dataclass
class Station:
    nurse: User  # health officer of the commune (the station)
    actor: Actor
    contact: Contact
    exposed: Person

    def follow_up(self, db: Session, day: date) -> FollowUp:
        row = db.scalar(
            select(FollowUp).where(FollowUp.contact_id == self.contact.id, FollowUp.day == day)
        )
        assert row is not None
        return row


@pytest.fixture
def station(db: Session) -> Station:
    """A case registered by the district's officer; its F1 lives in Sông Hiến, whose station
    follows them up from 15/11 (confirmation) to 27/11."""
    _district, district_actor = officer(db)
    case_person = person(db, "Nông Văn Ca")
    exposed = person(db, "Hoàng Văn Theo", phone="+84912000777")
    market = venue(db, "Chợ Sông Hiến")
    visit(db, case_person, market, at(13, 9), at(13, 10))
    visit(db, exposed, market, at(13, 9, 30), at(13, 11))
    case = register_case(db, district_actor, person=case_person, confirmed_on=T0.date(), now=T0)
    compute_candidates(db, district_actor, case, now=T0)
    decide(db, district_actor, [c.id for c in candidates_of(db, case)], "confirmed", now=T0)
    contact = db.scalar(select(Contact).where(Contact.person_id == exposed.id))
    assert contact is not None
    nurse, actor = officer(db, SONG_HIEN, name="Y tá Sông Hiến")
    return Station(nurse, actor, contact, exposed)


def audits(db: Session, row: FollowUp) -> list[AuditEntry]:
    return list(
        db.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "follow_up.record", AuditEntry.object_id == str(row.id))
            .order_by(AuditEntry.id)
        )
    )


def test_recording_again_updates_the_day_and_an_identical_repeat_is_a_no_op(
    db: Session, station: Station
) -> None:
    today = station.follow_up(db, date(2021, 11, 15))
    [listed] = due_follow_ups(db, station.actor.principal, day=date(2021, 11, 15))  # type: ignore[arg-type]
    assert listed.person.full_name == "Hoàng Văn Theo" and listed.follow_up.status == "due"

    row = record_follow_up(
        db, station.actor, today.id, reached=True, symptoms=False, temperature=36.84, now=T0
    )
    assert (row.status, row.symptoms, row.temperature) == ("done", False, 36.8)
    assert row.recorded_at == T0 and row.done_by_id == station.nurse.id
    again = record_follow_up(
        db,
        station.actor,
        today.id,
        reached=True,
        symptoms=False,
        temperature=36.8,
        now=T0 + DAY / 24,
    )
    assert again.recorded_at == T0  # a double tap: nothing changed, nothing more audited
    assert len(audits(db, row)) == 1

    later = T0 + timedelta(hours=3)
    row = record_follow_up(
        db, station.actor, today.id, reached=True, symptoms=True, note="Ho, sốt nhẹ", now=later
    )
    assert (row.status, row.symptoms, row.temperature, row.note) == (
        "done", True, None, "Ho, sốt nhẹ"
    )  # fmt: skip
    _first, second = audits(db, row)
    assert second.details["replaced"]["symptoms"] is False and second.details["symptoms"] is True
    assert second.area_id == station.exposed.area_id
    assert db.scalar(select(FollowUp.id).where(FollowUp.contact_id == station.contact.id,
                     FollowUp.day == date(2021, 11, 15))) == today.id  # fmt: skip


def test_refusals_in_vietnamese(db: Session, station: Station) -> None:
    today, tomorrow = (station.follow_up(db, date(2021, 11, d)) for d in (15, 16))
    cases = [
        (tomorrow.id, {"reached": True, "symptoms": False}, "follow_up.in_future"),
        (today.id, {"reached": True, "symptoms": False, "temperature": 48.0},
         "follow_up.temperature_invalid"),
        (today.id, {"reached": False, "temperature": 37.0}, "follow_up.answers_without_contact"),
        (today.id, {"reached": True}, "follow_up.symptoms_required"),
        (999_999, {"reached": True, "symptoms": False}, "follow_up.not_found"),
    ]  # fmt: skip
    for follow_up_id, answers, code in cases:
        with pytest.raises(AppError) as err:
            record_follow_up(db, station.actor, follow_up_id, now=T0, **answers)  # type: ignore[arg-type]
        assert err.value.code == code
    _other, elsewhere = officer(db, HOA_AN)
    with pytest.raises(Forbidden):
        record_follow_up(db, elsewhere, today.id, reached=True, symptoms=False, now=T0)
    assert due_follow_ups(db, elsewhere.principal, day=date(2021, 11, 15)) == []  # type: ignore[arg-type]


def test_missed_days_are_listed_first_and_the_counts_move_with_each_record(
    db: Session, station: Station
) -> None:
    district = officer(db)[1].principal
    assert district is not None
    first, second, third = (station.follow_up(db, date(2021, 11, d)) for d in (15, 16, 17))
    record_follow_up(db, station.actor, first.id, reached=True, symptoms=False, now=T0)
    now = T0 + 2 * DAY  # 17/11: the 16th went by with nothing recorded
    mark_missed_follow_ups(db, now)
    db.refresh(second)
    assert second.status == "missed" and second.recorded_at is None

    def missed() -> int:
        report = area_counts(
            db, district, _commune(db, station), date_from=date(2021, 11, 15),
            date_to=date(2021, 11, 17), today=date(2021, 11, 17),
        )  # fmt: skip
        assert report.total is not None
        return report.total.follow_ups_missed

    assert missed() == 1
    [view] = due_follow_ups(db, station.actor.principal, day=date(2021, 11, 17))  # type: ignore[arg-type]
    assert view.follow_up.id == third.id and view.missed_days == [date(2021, 11, 16)]
    # The nurse did reach them on the 16th and records it late: the day is no longer missed.
    record_follow_up(db, station.actor, second.id, reached=True, symptoms=False, now=now)
    assert missed() == 0
    # Today they do not answer: a missed follow-up at once, not only when the day ends.
    record_follow_up(db, station.actor, third.id, reached=False, now=now)
    assert missed() == 1
    record_follow_up(db, station.actor, third.id, reached=True, symptoms=False, now=now)
    assert missed() == 0


def test_a_contact_who_becomes_a_case_stops_being_followed_up_not_missed(
    db: Session, station: Station
) -> None:
    contact_becomes_case(
        db, station.actor, station.contact, confirmed_on=date(2021, 11, 16), now=T0 + DAY
    )
    out = mark_missed_follow_ups(db, T0 + 5 * DAY)
    rows = db.scalars(
        select(FollowUp).where(FollowUp.contact_id == station.contact.id).order_by(FollowUp.day)
    ).all()
    # The 15th went by unrecorded while they were a contact; from the 16th they are a case.
    assert rows[0].day == date(2021, 11, 15) and rows[0].status == "missed"
    assert len(rows) > 2 and {r.status for r in rows[1:]} == {"stopped"}
    assert (out["missed"], out["stopped"]) == (1, len(rows) - 1)


def _commune(db: Session, station: Station) -> Area:
    found = db.get(Area, station.exposed.area_id)
    assert found is not None
    return found


def test_the_api_lists_and_records_with_stable_error_codes(
    client: TestClient, db: Session, station: Station
) -> None:
    csrf = sign_in(client, station.nurse)
    listed = client.get("/api/v1/tracing/follow-ups").json()
    assert [x["full_name"] for x in listed] == ["Hoàng Văn Theo"]
    entry = listed[0]
    assert entry["follow_up"]["status"] == "due" and entry["missed_days"] == []
    assert entry["station"].startswith("Phường Sông Hiến")
    url = f"/api/v1/tracing/follow-ups/{entry['follow_up']['id']}"
    body = {"reached": True, "symptoms": False, "temperature": 37.1}
    r = client.post(url, json=body, headers={"x-csrf-token": csrf})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "done" and r.json()["temperature"] == 37.1
    again = client.post(url, json=body, headers={"x-csrf-token": csrf})
    assert again.json() == r.json()  # idempotent
    assert_error(
        client.post(url, json={"reached": True, "symptoms": True, "temperature": 21},
                    headers={"x-csrf-token": csrf}),
        400, "follow_up.temperature_invalid",
    )  # fmt: skip
    assert_error(
        client.post("/api/v1/tracing/follow-ups/999999", json=body, headers={"x-csrf-token": csrf}),
        404,
        "follow_up.not_found",
    )
    other, _ = officer(db, HOA_AN)
    client.cookies.clear()
    csrf_other = sign_in(client, other)
    assert client.get("/api/v1/tracing/follow-ups").json() == []
    assert_error(
        client.post(url, json=body, headers={"x-csrf-token": csrf_other}), 403, "forbidden"
    )


def test_the_station_page_records_with_one_tap_and_highlights_missed_days(
    client: TestClient, db: Session, station: Station, clock: FixedClock
) -> None:
    sign_in(client, station.nurse)
    page = client.get("/tracing/follow-ups")
    assert "Hoàng Văn Theo" in page.text and "15/11/2021" in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    first = station.follow_up(db, date(2021, 11, 15))
    r = client.post(
        f"/tracing/follow-ups/{first.id}",
        data={"csrf_token": csrf.group(1), "result": "well", "temperature": "36,9"},
    )
    assert r.status_code == 200 and "Đã ghi nhận." in r.text
    db.refresh(first)
    assert (first.status, first.symptoms, first.temperature) == ("done", False, 36.9)
    assert "36.9 °C" in r.text
    clock.advance(days=2)  # nobody recorded the 16th
    client.cookies.clear()
    sign_in(client, station.nurse)  # a sign-in lasts 12 hours
    page = client.get("/tracing/follow-ups").text
    assert 'class="card follow-up missed' in page and "16/11/2021" in page
    # The commune's health officer reaches the station page from the home page.
    assert 'href="/tracing/follow-ups"' in client.get("/").text
