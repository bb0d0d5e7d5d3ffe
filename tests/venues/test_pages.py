"""Venue pages without a browser: the forms post, the pages show what they should."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from phongdich.auth.roles import Role
from phongdich.core.clock import FixedClock
from phongdich.core.phone import normalize_phone
from phongdich.jobs.registry import background_handlers
from phongdich.jobs.runner import claim_next, run_background_job
from phongdich.models import SmsMessage, Venue
from phongdich.web.pages import venues as venue_pages
from tests.checkins import factories as checkin_factories
from tests.conftest import T0
from tests.factories import HOA_AN, SONG_HIEN, TP_CAO_BANG, official, sign_in, venue_user
from tests.venues.factories import new_phone
from tests.venues.test_api import sign_in_by_phone


def test_an_owner_registers_through_the_form_and_the_commune_approves(
    client: TestClient, db: Session
) -> None:
    owner_phone = new_phone()
    csrf = sign_in_by_phone(client, db, owner_phone)
    picker = client.get("/venues/register", params={"commune_q": "song hien", "name": "Quán Mây"})
    assert picker.status_code == 200
    assert 'value="2021:01267"' in picker.text and "Quán Mây" in picker.text
    form = {
        "csrf_token": csrf,
        "name": "Quán cà phê Mây",
        "type_code": "restaurant",
        "street_address": "Số 3, tổ 2",
        "commune": "2021:01267",
    }
    r = client.post("/venues/register", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    venue_id = int(re.search(r"/venues/(\d+)", r.headers["location"]).group(1))  # type: ignore[union-attr]
    page = client.get(f"/venues/{venue_id}")
    assert "Quán cà phê Mây" in page.text and "Chờ duyệt" in page.text
    assert 'id="approval"' not in page.text  # the owner does not approve
    # The owner corrects the details before review, from the same page.
    assert 'id="edit"' in page.text
    r = client.post(
        f"/venues/{venue_id}/edit",
        data={**{k: form[k] for k in ("name", "type_code")}, "csrf_token": csrf,
              "street_address": "Số 5, tổ 2", "contact_phone": ""},
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303, r.text
    assert "Số 5, tổ 2" in client.get(f"/venues/{venue_id}").text

    # The same name again is a warning with a confirm box, not a refusal.
    again = client.post("/venues/register", data=form)
    assert again.status_code == 409 and 'name="confirm_duplicate"' in again.text

    client.cookies.clear()
    sign_in(client, official(db, Role.DISTRICT_OFFICIAL, HOA_AN))
    assert client.get(f"/venues/{venue_id}").status_code == 403

    client.cookies.clear()
    csrf = sign_in(client, official(db, Role.COMMUNE_OFFICIAL, SONG_HIEN))
    listing = client.get("/venues")
    assert 'id="pending"' in listing.text and "Quán cà phê Mây" in listing.text
    r = client.post(
        f"/venues/{venue_id}/approve", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert r.status_code == 303
    assert db.get(Venue, venue_id).status == "approved"  # type: ignore[union-attr]
    assert f"/venues/{venue_id}/poster.pdf" in client.get(f"/venues/{venue_id}").text
    # The owner hears of it by SMS (kept in the outbox here, with no gateway).
    told = db.scalars(select(SmsMessage).where(SmsMessage.purpose == "venue_decision")).one()
    assert told.phone == normalize_phone(owner_phone) and "đã được duyệt" in told.body


def test_the_import_page_previews_then_commits(client: TestClient, db: Session) -> None:
    csrf = sign_in(client, official(db, Role.DISTRICT_OFFICIAL, TP_CAO_BANG))
    assert "Tải tệp mẫu" in client.get("/venues/import").text
    bad = "Tên địa điểm,Loại địa điểm,Địa chỉ,Mã xã\nChợ A,market,Tổ 1,01267\nX,rocket,,01267\n"
    r = client.post(
        "/venues/import/preview",
        data={"csrf_token": csrf, "scheme": "2021"},
        files={"file": ("a.csv", bad.encode(), "text/csv")},
    )
    assert r.status_code == 200
    assert 'id="import-errors"' in r.text and "rocket" in r.text
    assert 'name="payload"' not in r.text  # nothing to confirm while there are errors

    good = "Tên địa điểm,Loại địa điểm,Địa chỉ,Mã xã\n=cmd|' /C calc'!A0,market,Tổ 1,01267\n"
    r = client.post(
        "/venues/import/preview",
        data={"csrf_token": csrf, "scheme": "2021"},
        files={"file": ("a.csv", good.encode(), "text/csv")},
    )
    payload = re.search(r'name="payload" value="([^"]*)"', r.text)
    assert payload, r.text
    r = client.post(
        "/venues/import/commit",
        data={"csrf_token": csrf, "scheme": "2021", "payload": html.unescape(payload.group(1))},
        files={"unused": ("", b"", "application/octet-stream")},  # sent as multipart, as forms do
    )
    assert r.status_code == 200 and 'id="import-done"' in r.text, r.text
    assert (
        db.scalar(select(Venue.street_address).where(Venue.name == "=cmd|' /C calc'!A0")) == "Tổ 1"
    )


def test_home_links_to_venue_pages_by_role(client: TestClient, db: Session) -> None:
    sign_in(client, official(db, Role.COMMUNE_OFFICIAL, SONG_HIEN))
    home = client.get("/").text
    assert 'href="/venues?status=pending"' in home and 'href="/venues/import"' in home
    client.cookies.clear()
    sign_in_by_phone(client, db, new_phone())
    home = client.get("/").text
    assert 'href="/venues/register"' in home and 'href="/venues/import"' not in home


def test_a_big_import_is_written_by_a_job_with_a_status_page(
    client: TestClient,
    db: Session,
    factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(venue_pages, "IN_REQUEST_ROWS", 2)  # three rows make a big file here
    csrf = sign_in(client, official(db, Role.DISTRICT_OFFICIAL, TP_CAO_BANG))
    header = "Tên địa điểm,Loại địa điểm,Địa chỉ,Mã xã\n"
    rows = "".join(f"Chợ phiên số {i},market,Tổ {i},01267\n" for i in range(3))
    r = client.post(
        "/venues/import/preview",
        data={"csrf_token": csrf, "scheme": "2021"},
        files={"file": ("a.csv", (header + rows).encode(), "text/csv")},
    )
    payload = re.search(r'name="payload" value="([^"]*)"', r.text)
    assert payload, r.text
    form = {"csrf_token": csrf, "scheme": "2021", "payload": html.unescape(payload.group(1))}
    r = client.post("/venues/import/commit", data=form, follow_redirects=False,
                    files={"unused": ("", b"", "application/octet-stream")})  # fmt: skip
    assert r.status_code == 303 and r.headers["location"].startswith("/jobs/")
    assert db.scalar(select(func.count()).select_from(Venue).where(
        Venue.name.like("Chợ phiên số %"))) == 0  # fmt: skip
    job_id = claim_next(factory, "test-worker", T0)
    assert job_id is not None and r.headers["location"] == f"/jobs/{job_id}"
    assert run_background_job(factory, background_handlers(), job_id, FixedClock(T0)) == "done"
    page = client.get(f"/jobs/{job_id}")
    assert "Đã nhập 3 địa điểm." in page.text and 'href="/venues"' in page.text
    assert "3 / 3" in page.text  # the progress the job reported
    assert db.scalar(select(func.count()).select_from(Venue).where(
        Venue.name.like("Chợ phiên số %"))) == 3  # fmt: skip

    # The same rows again, now duplicates not confirmed: the job fails with the reason, in
    # words on its page, and writes nothing.
    r = client.post("/venues/import/commit", data=form, follow_redirects=False,
                    files={"unused": ("", b"", "application/octet-stream")})  # fmt: skip
    job_id = claim_next(factory, "test-worker", T0)
    assert job_id is not None
    assert run_background_job(factory, background_handlers(), job_id, FixedClock(T0)) == "failed"
    page = client.get(f"/jobs/{job_id}")
    assert 'data-code="import.possible_duplicates"' in page.text
    assert "Có 3 dòng có thể trùng với địa điểm đã có." in page.text
    english = client.get(f"/jobs/{job_id}?lang=en")
    assert "3 rows may duplicate existing venues." in english.text
    assert db.scalar(select(func.count()).select_from(Venue).where(
        Venue.name.like("Chợ phiên số %"))) == 3  # fmt: skip


def test_the_list_offers_the_import_only_to_those_who_may_import(
    client: TestClient, db: Session
) -> None:
    sign_in(client, official(db, Role.HEALTH_OFFICER, TP_CAO_BANG))
    listing = client.get("/venues")
    assert listing.status_code == 200 and 'href="/venues/import"' not in listing.text
    assert client.get("/venues/import").status_code == 403  # what the link led to
    client.cookies.clear()
    sign_in(client, official(db, Role.DISTRICT_OFFICIAL, TP_CAO_BANG))
    assert 'href="/venues/import"' in client.get("/venues").text


def test_an_owner_gives_a_scanner_device_its_token_and_revokes_it(
    client: TestClient, db: Session
) -> None:
    """The venue page issues a device's token (shown once, on the answer to the form only),
    lists the venue's devices, and revokes one; only those who manage the venue see any of it."""
    gate = checkin_factories.venue(db, name="Chợ Sông Hiến")
    owner = venue_user(db, Role.VENUE_OWNER, gate.id)
    _, person = checkin_factories.citizen_with_person(db, name="Nông Thị Quét")
    code = checkin_factories.qr_of(db, person)
    db.commit()
    csrf = sign_in(client, owner)
    page = client.get(f"/venues/{gate.id}")
    assert 'id="devices"' in page.text and "Chưa có thiết bị nào." in page.text
    made = client.post(
        f"/venues/{gate.id}/devices/add", data={"name": "Máy quét cổng 2", "csrf_token": csrf}
    )
    assert made.status_code == 201, made.text
    assert made.headers["cache-control"] == "no-store"
    found = re.search(r'id="device-secret">(pd_[0-9a-f]{8}_[\w-]+)<', made.text)
    assert found is not None and f"<code>{gate.id}</code>" in made.text
    secret = found.group(1)
    listed = client.get(f"/venues/{gate.id}").text
    assert "Máy quét cổng 2" in listed and f"{secret[:11]}…" in listed and "chưa dùng" in listed
    assert secret not in listed  # shown once

    # The device uploads with it.
    client.cookies.clear()
    auth = {"Authorization": f"Bearer {secret}"}
    scan = {"client_scan_id": "d-1", "code": code, "at": T0.isoformat(), "venue_id": gate.id}
    r = client.post("/api/v1/checkins/batch", json={"scans": [scan]}, headers=auth)
    assert r.status_code == 200 and r.json()["stored"] == 1, r.text

    # Staff of the venue, and the owner of another, neither see nor touch its devices.
    staff = venue_user(db, Role.VENUE_STAFF, gate.id)
    other = checkin_factories.venue(db)
    other_owner = venue_user(db, Role.VENUE_OWNER, other.id)
    db.commit()
    csrf = sign_in(client, staff)
    assert 'id="devices"' not in client.get(f"/venues/{gate.id}").text
    refused = client.post(f"/venues/{gate.id}/devices/add", data={"name": "x", "csrf_token": csrf})
    assert refused.status_code == 403
    client.cookies.clear()
    csrf = sign_in(client, other_owner)
    token_id = int(re.search(r"/devices/(\d+)/revoke", listed).group(1))  # type: ignore[union-attr]
    for place in (gate.id, other.id):
        r = client.post(
            f"/venues/{place}/devices/{token_id}/revoke",
            data={"csrf_token": csrf},
            follow_redirects=False,
        )
        assert r.status_code == (403 if place == gate.id else 404), r.text

    # The owner revokes it: the device is refused from then on.
    client.cookies.clear()
    csrf = sign_in(client, owner)
    assert "dùng lần cuối" in client.get(f"/venues/{gate.id}").text
    r = client.post(
        f"/venues/{gate.id}/devices/{token_id}/revoke",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "đã thu hồi lúc" in client.get(f"/venues/{gate.id}").text
    client.cookies.clear()
    again = client.post("/api/v1/checkins/batch", json={"scans": [scan]}, headers=auth)
    assert again.status_code == 401, again.text
