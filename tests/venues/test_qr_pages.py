"""The page a phone opens from a poster: the venue, a plain refusal, the typed code, and the
owner's poster check."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from phongdich.auth.roles import Role
from phongdich.core import signing
from phongdich.models import VenueDailyActivity
from phongdich.venues.qr import PURPOSE, issue_qr
from tests.conftest import T0
from tests.factories import TP_CAO_BANG, official, sign_in, venue_user
from tests.venues.orm_factories import make_venue

BASE = "http://testserver"


def test_valid_code_shows_the_venue_and_its_address(db: Session, client: TestClient) -> None:
    venue = make_venue(db, name="Chợ Xanh Sông Hiến")
    issued = issue_qr(db, venue, base_url=BASE, now=T0)
    r = client.get(f"/v/{issued.token}")
    assert r.status_code == 200
    assert "Chợ Xanh Sông Hiến" in r.text
    assert "Phường Sông Hiến, Thành phố Cao Bằng" in r.text
    assert issued.short_code_display in r.text
    assert "Xác nhận mã QR vẫn đang được dán" not in r.text  # nobody signed in


def test_refused_codes_explain_why_in_plain_vietnamese(db: Session, client: TestClient) -> None:
    venue = make_venue(db)
    header, payload, sig = issue_qr(db, venue, base_url=BASE, now=T0).token.split(".")
    claims = json.loads(signing.b64url_decode(payload))
    edited = signing.b64url_encode(json.dumps({**claims, "v": venue.id + 1}).encode())
    none_header = signing.b64url_encode(b'{"alg":"none","kid":"vq1"}')
    unknown = signing.b64url_encode(b'{"alg":"EdDSA","kid":"vq77"}')
    cases = {
        f"{header}.{edited}.{sig}": "qr.signature_invalid",
        f"{none_header}.{payload}.": "qr.alg_not_allowed",
        f"{unknown}.{payload}.{sig}": "qr.unknown_key",
        "abc.def": "qr.malformed",
    }
    for token, code in cases.items():
        r = client.get(f"/v/{token}")
        assert r.status_code == 400, token
        assert code in r.text
        assert signing.REASONS[code] in r.text
        assert "Gõ mã địa điểm" in r.text

    kid = signing.active_key(db, PURPOSE).kid  # type: ignore[union-attr]
    signing.rotate_key(db, PURPOSE, now=T0)
    signing.retire_key(db, kid, now=T0)
    r = client.get(f"/v/{header}.{payload}.{sig}")
    assert r.status_code == 400 and "qr.key_retired" in r.text


def test_typed_short_code(db: Session, client: TestClient) -> None:
    venue = make_venue(db, name="Bến xe Cao Bằng", type_code="station")
    assert "Gõ mã địa điểm" in client.get("/v/code").text
    typed = f"{venue.short_code[:4].lower()} {venue.short_code[4:]}"
    r = client.get("/v/code", params={"c": typed})
    assert r.status_code == 200 and "Bến xe Cao Bằng" in r.text
    wrong = venue.short_code[:-1] + ("3" if venue.short_code[-1] != "3" else "4")
    r = client.get("/v/code", params={"c": wrong})
    assert r.status_code == 400 and "gõ nhầm" in r.text


def test_owner_confirms_the_poster_is_up_without_counting_a_visit(
    db: Session, client: TestClient
) -> None:
    venue = make_venue(db)
    token = issue_qr(db, venue, base_url=BASE, now=T0).token
    csrf = sign_in(client, venue_user(db, Role.VENUE_STAFF, venue.id))
    r = client.get(f"/v/{token}")
    assert "Xác nhận mã QR vẫn đang được dán" in r.text
    r = client.post(f"/v/{token}/poster-check", data={"csrf_token": csrf}, follow_redirects=True)
    assert r.status_code == 200 and "Đã ghi nhận" in r.text
    row = db.scalar(
        select(VenueDailyActivity)
        .where(VenueDailyActivity.venue_id == venue.id)
        .execution_options(populate_existing=True)
    )
    assert row is not None and (row.scans, row.visitors, row.poster_checks) == (0, 0, 1)
    db.refresh(venue)
    assert venue.last_poster_check_at == T0 and venue.last_scan_at is None
    assert client.post(f"/v/{token}/poster-check", data={}).status_code == 403  # no CSRF token


def test_an_official_is_not_offered_the_poster_check(db: Session, client: TestClient) -> None:
    venue = make_venue(db)
    token = issue_qr(db, venue, base_url=BASE, now=T0).token
    csrf = sign_in(client, official(db, Role.DISTRICT_OFFICIAL, TP_CAO_BANG))
    assert "Xác nhận mã QR vẫn đang được dán" not in client.get(f"/v/{token}").text
    r = client.post(f"/v/{token}/poster-check", data={"csrf_token": csrf})
    assert r.status_code == 403
