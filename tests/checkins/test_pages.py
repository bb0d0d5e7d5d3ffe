"""Check-in and people pages over HTTP: what staff, citizens and strangers each see behind a
personal QR, refusals in plain Vietnamese, and the English rendering."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from phongdich.auth.roles import Role
from phongdich.checkins.service import STAFF_SCAN, record_check_in
from phongdich.models import Visit
from tests.checkins.factories import T0, citizen_with_person, qr_of, venue
from tests.factories import official, sign_in, venue_user
from tests.venues.factories import actor_of
from tests.venues.test_api import sign_in_by_phone


def test_personal_qr_page_shows_the_name_to_staff_only(client: TestClient, db: Session) -> None:
    _, me = citizen_with_person(db, name="Lục Thị Riêng")
    token = qr_of(db, me)
    anonymous = client.get(f"/p/{token}")
    assert anonymous.status_code == 200
    assert "Mã QR cá nhân hợp lệ." in anonymous.text and "Lục Thị Riêng" not in anonymous.text
    gate = venue(db, name="Chợ Xanh")
    sign_in(client, venue_user(db, Role.VENUE_STAFF, gate.id))
    staff = client.get(f"/p/{token}")
    assert "Lục Thị Riêng" in staff.text and "Ghi nhận vào Chợ Xanh" in staff.text


def test_edited_personal_qr_gets_a_plain_refusal(client: TestClient, db: Session) -> None:
    _, me = citizen_with_person(db)
    token = qr_of(db, me)
    r = client.get(f"/p/{token[:-2]}xx")
    assert r.status_code == 400
    assert 'data-code="qr.signature_invalid"' in r.text and "bị làm giả" in r.text


def test_scanner_page_is_for_venue_staff(client: TestClient, db: Session) -> None:
    sign_in(client, official(db, Role.COMMUNE_OFFICIAL, ("commune", "01267")))
    r = client.get("/staff/scanner")
    assert r.status_code == 403 and "chủ địa điểm và người kiểm soát" in r.text
    client.cookies.clear()
    gate = venue(db, name="Bến xe Thử")
    sign_in(client, venue_user(db, Role.VENUE_STAFF, gate.id))
    r = client.get("/staff/scanner?lang=en")
    assert r.status_code == 200
    assert "Record someone without a phone" in r.text and "Bến xe Thử" in r.text


def test_history_look_up_page_requires_a_purpose(client: TestClient, db: Session) -> None:
    _, me = citizen_with_person(db)
    tracer = official(db, Role.HEALTH_OFFICER, ("district", "040"))
    csrf = sign_in(client, tracer)
    page = client.get(f"/people/{me.id}")
    assert page.status_code == 200 and "Mục đích tra cứu" in page.text
    r = client.post(f"/people/{me.id}/history", data={"csrf_token": csrf, "purpose": "xem"})
    assert r.status_code == 400 and 'data-code="history.purpose_required"' in r.text


def test_a_citizen_sees_all_that_is_kept_of_them(app, client: TestClient, db: Session) -> None:  # type: ignore[no-untyped-def]
    """The history window and the page's words follow the operator's retention setting."""
    user, me = citizen_with_person(db)
    place = venue(db, name="Quán Cũ")
    at = T0 - timedelta(days=35)
    db.add(Visit(person_id=me.id, venue_id=place.id, source="citizen_scan", checked_in_at=at,
                 last_seen_at=at, default_stay_minutes=60, received_at=at))  # fmt: skip
    db.flush()
    assert user.phone is not None
    sign_in_by_phone(client, db, user.phone)
    page = client.get("/me/visits")
    assert "Quán Cũ" not in page.text and "xoá sau 28 ngày" in page.text
    app.state.settings.checkin_retention_days = 40
    page = client.get("/me/visits")
    assert "Quán Cũ" in page.text and "xoá sau 40 ngày" in page.text
    assert "deleted automatically after 40 days" in client.get("/me/visits?lang=en").text


def test_staff_reach_the_scanner_in_one_tap_from_home(client: TestClient, db: Session) -> None:
    gate = venue(db, name="Bến xe Thử")
    sign_in(client, venue_user(db, Role.VENUE_STAFF, gate.id))
    home = client.get("/").text
    assert '<a class="button" href="/staff/scanner">' in home
    cards = re.findall(r'<div class="card" id="([a-z-]+)"', home)
    assert cards and cards[0] == "scanner-card"  # the first card on the page


def test_staff_record_an_exit_from_the_days_list(client: TestClient, db: Session) -> None:
    gate, other = venue(db, name="Bến xe Thử"), venue(db, name="Chợ Khác")
    _, inside = citizen_with_person(db, name="Nông Văn Ở")
    staff = venue_user(db, Role.VENUE_STAFF, gate.id)
    record_check_in(db, actor_of(db, staff), person=inside, venue=gate, now=T0, source=STAFF_SCAN)
    db.flush()
    visit = db.scalars(select(Visit).where(Visit.person_id == inside.id)).one()

    # Staff of another venue are offered nothing and may not record the exit.
    csrf = sign_in(client, venue_user(db, Role.VENUE_STAFF, other.id))
    r = client.post(f"/checkins/{visit.id}/checkout", data={"csrf_token": csrf})
    assert r.status_code == 403 and visit.checked_out_at is None
    client.cookies.clear()

    csrf = sign_in(client, staff)
    today = f"/staff/venues/{gate.id}/today"
    page = client.get(today).text
    assert 'aria-label="Ghi nhận ra: Nông Văn Ở"' in page and 'class="occupancy">1<' in page
    scanner = client.get(f"/staff/scanner?venue={gate.id}").text
    assert 'aria-label="Ghi nhận ra: Nông Văn Ở"' in scanner
    r = client.post(f"/checkins/{visit.id}/checkout", data={"csrf_token": csrf, "next": today},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == today + "?done=out"
    db.refresh(visit)
    assert visit.checked_out_at == T0 and visit.end_rule == "explicit"
    page = client.get(r.headers["location"]).text
    assert "Đã ghi nhận ra." in page and "Ghi nhận ra:" not in page
    assert 'class="occupancy">0<' in page
