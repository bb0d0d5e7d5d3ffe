"""Tracing over HTTP: only health officers of the case's area see it (403 in the one error
shape elsewhere), the look-up is logged with the case as its purpose, the second-official rule,
and the F1-list export job served to its requester only, with formula-escaped cells."""

from __future__ import annotations

import io
from datetime import date

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from phongdich.core.clock import FixedClock
from phongdich.core.phone import display_phone
from phongdich.jobs.registry import background_handlers
from phongdich.jobs.runner import claim_next, run_background_job
from phongdich.models import BackgroundJob, HistoryLookup, Person, User
from tests.conftest import T0
from tests.factories import HOA_AN, PROVINCE, sign_in
from tests.tracing.factories import at, officer, person, venue, visit
from tests.web.test_api import assert_error


def _setup(db: Session) -> tuple[User, Person, Person]:
    me, _ = officer(db)
    case_person = person(db, "Nông Văn Ca")
    market = venue(db, "Chợ Sông Hiến")
    visit(db, case_person, market, at(13, 9), at(13, 10))
    exposed = person(db, '=HYPERLINK("http://x","bấm")', phone="+84912000333")
    visit(db, exposed, market, at(13, 9, 30), at(13, 11))
    return me, case_person, exposed


def _register(client: TestClient, csrf: str, person_id: int) -> dict:
    r = client.post(
        "/api/v1/tracing/cases",
        json={"person_id": person_id, "confirmed_on": "2021-11-15", "sample_on": "2021-11-14"},
        headers={"x-csrf-token": csrf},
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_only_officers_of_the_area_see_a_case_and_the_look_up_is_logged(
    client: TestClient, db: Session
) -> None:
    me, case_person, exposed = _setup(db)
    csrf = sign_in(client, me)
    case = _register(client, csrf, case_person.id)
    assert case["window_start"].startswith("2021-11-11T17:00")  # 12/11 00:00 in Vietnam
    r = client.post(
        f"/api/v1/tracing/cases/{case['id']}/candidates", headers={"x-csrf-token": csrf}
    )
    assert r.status_code == 200, r.text
    [found] = r.json()
    assert found["person_id"] == exposed.id and found["category"] == "f1_likely"
    assert found["explanation"]["contacts"][0]["venue"] == "Chợ Sông Hiến"
    lookup = db.scalar(select(HistoryLookup).where(HistoryLookup.person_id == case_person.id))
    assert lookup is not None and lookup.case_ref == case["code"]

    other, _ = officer(db, HOA_AN)
    client.cookies.clear()
    csrf_other = sign_in(client, other)
    assert_error(client.get(f"/api/v1/tracing/cases/{case['id']}"), 403, "forbidden")
    assert_error(client.get(f"/api/v1/tracing/cases/{case['id']}/candidates"), 403, "forbidden")
    assert_error(
        client.post(
            "/api/v1/tracing/candidates/decisions",
            json={"candidate_ids": [found["id"]], "decision": "confirmed"},
            headers={"x-csrf-token": csrf_other},
        ),
        403,
        "forbidden",
    )
    assert client.get("/api/v1/tracing/cases").json() == []
    province, _ = officer(db, PROVINCE)
    client.cookies.clear()
    sign_in(client, province)
    assert client.get(f"/api/v1/tracing/cases/{case['id']}").status_code == 200


def test_the_drafter_cannot_publish_the_timeline(client: TestClient, db: Session) -> None:
    me, case_person, _ = _setup(db)
    csrf = sign_in(client, me)
    case = _register(client, csrf, case_person.id)
    url = f"/api/v1/tracing/cases/{case['id']}/timeline"
    assert client.get(url).json()["entries"][0]["venue"] == "Chợ Sông Hiến"
    assert_error(
        client.post(url + "/approve", headers={"x-csrf-token": csrf}),
        403,
        "timeline.second_official_required",
    )
    second, _ = officer(db, name="Cán bộ thứ hai")
    client.cookies.clear()
    csrf2 = sign_in(client, second)
    r = client.post(url + "/approve", headers={"x-csrf-token": csrf2})
    assert r.status_code == 200 and r.json()["status"] == "published"
    assert "Chợ Sông Hiến" in client.get("/moc-dich-te").text


def test_the_f1_export_runs_as_a_job_and_only_its_requester_downloads_it(
    client: TestClient, db: Session, factory: sessionmaker[Session]
) -> None:
    me, case_person, _exposed = _setup(db)
    csrf = sign_in(client, me)
    case = _register(client, csrf, case_person.id)
    [found] = client.post(
        f"/api/v1/tracing/cases/{case['id']}/candidates", headers={"x-csrf-token": csrf}
    ).json()
    r = client.post(
        "/api/v1/tracing/candidates/decisions",
        json={"candidate_ids": [found["id"]], "decision": "confirmed"},
        headers={"x-csrf-token": csrf},
    )
    assert r.status_code == 200 and r.json()[0]["status"] == "confirmed"
    contacts = client.get(f"/api/v1/tracing/cases/{case['id']}/contacts").json()
    assert contacts[0]["quarantine_end"] == "2021-11-27"
    queued = client.post(
        "/api/v1/tracing/exports", json={"case_id": case["id"]}, headers={"x-csrf-token": csrf}
    ).json()
    job_id = claim_next(factory, "test-worker", T0)
    assert job_id is not None and job_id == queued["job_id"]
    assert run_background_job(factory, background_handlers(), job_id, FixedClock(T0)) == "done"
    job = db.get(BackgroundJob, job_id)
    assert job is not None
    db.refresh(job)
    assert (job.progress_done, job.progress_total) == (1, 1)
    assert job.result is not None
    url = job.result["download_url"]
    assert "Tải kết quả" in client.get(queued["status_url"]).text
    r = client.get(url)
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.content), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][1] == "Họ và tên" and len(rows) == 2
    name, phone = rows[1][1], rows[1][5]
    assert name == '\'=HYPERLINK("http://x","bấm")'  # stored as text, never run
    assert phone == display_phone("+84912000333")
    assert rows[1][13].date() == date(2021, 11, 27)
    other, _ = officer(db, name="Cán bộ khác")
    client.cookies.clear()
    sign_in(client, other)
    refused = client.get(url)
    assert refused.status_code == 404 and "Không tìm thấy tệp" in refused.text
