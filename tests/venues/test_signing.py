"""Signed venue QR codes: genuine codes verify and decode; every kind of bad code is refused."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image
from sqlalchemy.orm import Session

from phongdich.core import qr, signing
from phongdich.core.shortcode import parse_short_code
from phongdich.venues.qr import PURPOSE, issue_qr, resolve_short_code, resolve_token
from tests.conftest import T0
from tests.venues.orm_factories import make_location, make_venue

BASE = "https://phongdich.caobang.example"


def decode_png(png: bytes) -> str:
    results = zxingcpp.read_barcodes(
        Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode
    )
    assert len(results) == 1
    return results[0].text


def _parts(token: str) -> list[str]:
    return token.split(".")


def _segment(value: dict[str, object]) -> str:
    return signing.b64url_encode(json.dumps(value, separators=(",", ":")).encode())


def test_qr_png_decodes_to_the_signed_url_and_leads_back_to_the_venue(db: Session) -> None:
    venue = make_venue(db, name="Chợ Xanh Sông Hiến")
    issued = issue_qr(db, venue, base_url=BASE, now=T0)

    assert issued.url == f"{BASE}/v/{issued.token}"
    assert decode_png(qr.png_bytes(issued.url)) == issued.url
    assert len(issued.url) < 260  # a readable QR, not a dense one
    assert venue.qr_issued_at == T0
    place = resolve_token(db, issued.token)
    assert place.venue.id == venue.id and place.location is None
    assert place.issued_at == T0
    # The code is plainly readable: ids, the short code and the time, and nothing secret.
    claims = json.loads(signing.b64url_decode(_parts(issued.token)[1]))
    assert claims == {"v": venue.id, "c": venue.short_code, "iat": int(T0.timestamp())}


def test_svg_carries_the_same_symbol(db: Session) -> None:
    issued = issue_qr(db, make_venue(db), base_url=BASE, now=T0)
    svg = qr.svg_bytes(issued.url)
    assert svg.startswith(b"<svg") and b"<path" in svg
    # The matrix drawn into posters is the one the PNG shows.
    m = qr.matrix(issued.url)
    assert len(m) == len(m[0]) == qr.make(issued.url).symbol_size(border=0)[0]


def test_sub_location_code_names_the_gate(db: Session) -> None:
    venue = make_venue(db)
    gate = make_location(db, venue)
    issued = issue_qr(db, venue, base_url=BASE, now=T0, location=gate)
    assert issued.short_code == gate.short_code
    assert decode_png(qr.png_bytes(issued.url)) == issued.url
    place = resolve_token(db, issued.token)
    assert (place.venue.id, place.location.id if place.location else None) == (venue.id, gate.id)
    typed = resolve_short_code(db, issued.short_code_display.lower())
    assert typed.location is not None and typed.location.id == gate.id


def test_short_code_typed_by_hand(db: Session) -> None:
    venue = make_venue(db)
    issued = issue_qr(db, venue, base_url=BASE, now=T0)
    assert issued.short_code_display == f"{venue.short_code[:4]}-{venue.short_code[4:]}"
    assert parse_short_code(issued.short_code_display) == venue.short_code
    assert resolve_short_code(db, issued.short_code_display).venue.id == venue.id


def _refused(db: Session, token: str) -> signing.InvalidToken:
    with pytest.raises(signing.InvalidToken) as info:
        resolve_token(db, token)
    assert info.value.status == 400
    assert info.value.message == signing.REASONS[info.value.code]
    return info.value


def test_forged_code_signed_with_another_key_is_refused(db: Session) -> None:
    venue = make_venue(db)
    genuine = issue_qr(db, venue, base_url=BASE, now=T0).token
    header, payload, _sig = _parts(genuine)
    forger = Ed25519PrivateKey.generate()
    forged_sig = signing.b64url_encode(forger.sign(f"{header}.{payload}".encode()))
    err = _refused(db, f"{header}.{payload}.{forged_sig}")
    assert err.code == "qr.signature_invalid"
    assert "làm giả" in err.message


def test_edited_code_is_refused(db: Session) -> None:
    venue = make_venue(db)
    other = make_venue(db)
    header, payload, sig = _parts(issue_qr(db, venue, base_url=BASE, now=T0).token)
    claims = json.loads(signing.b64url_decode(payload))
    claims.update(v=other.id, c=other.short_code)  # point a genuine poster at another venue
    err = _refused(db, f"{header}.{_segment(claims)}.{sig}")
    assert err.code == "qr.signature_invalid"
    assert "bị sửa" in err.message
    # A damaged code (a character lost in a photo) is told apart from a tampered one.
    assert _refused(db, f"{header}.{payload[:-3]}!.{sig}").code == "qr.malformed"
    assert _refused(db, "not-a-code").code == "qr.malformed"


@pytest.mark.parametrize("alg", ["none", "None", "HS256", "ES256", None])
def test_alg_none_and_other_algorithms_are_refused(db: Session, alg: str | None) -> None:
    venue = make_venue(db)
    _header, payload, sig = _parts(issue_qr(db, venue, base_url=BASE, now=T0).token)
    kid = signing.active_key(db, PURPOSE).kid  # type: ignore[union-attr]
    header = _segment({"alg": alg, "kid": kid})
    assert _refused(db, f"{header}.{payload}.").code == "qr.alg_not_allowed"
    assert _refused(db, f"{header}.{payload}.{sig}").code == "qr.alg_not_allowed"


def test_unknown_key_is_refused(db: Session) -> None:
    venue = make_venue(db)
    _header, payload, sig = _parts(issue_qr(db, venue, base_url=BASE, now=T0).token)
    for kid in ("vq999", "", "pq1"):
        header = _segment({"alg": "EdDSA", "kid": kid})
        assert _refused(db, f"{header}.{payload}.{sig}").code == "qr.unknown_key"


def test_rotation_keeps_old_posters_until_the_old_key_is_retired(db: Session) -> None:
    venue = make_venue(db)
    old = issue_qr(db, venue, base_url=BASE, now=T0)
    old_kid = json.loads(signing.b64url_decode(_parts(old.token)[0]))["kid"]

    new_key = signing.rotate_key(db, PURPOSE, now=T0 + timedelta(days=30))
    assert new_key.kid != old_kid and new_key.kid.startswith("vq")
    new = issue_qr(db, venue, base_url=BASE, now=T0 + timedelta(days=30))
    assert json.loads(signing.b64url_decode(_parts(new.token)[0]))["kid"] == new_key.kid
    assert resolve_token(db, old.token).venue.id == venue.id  # old posters still work
    assert resolve_token(db, new.token).venue.id == venue.id

    retired = signing.retire_key(db, old_kid, now=T0 + timedelta(days=40))
    assert retired.private_key is None
    err = _refused(db, old.token)
    assert err.code == "qr.key_retired"
    assert "in lại" in err.message
    assert resolve_token(db, new.token).venue.id == venue.id


def test_retiring_the_active_key_makes_the_next_issue_use_a_new_one(db: Session) -> None:
    venue = make_venue(db)
    first = signing.ensure_key(db, PURPOSE, now=T0)
    signing.retire_key(db, first.kid, now=T0)
    issued = issue_qr(db, venue, base_url=BASE, now=T0)
    kid = json.loads(signing.b64url_decode(_parts(issued.token)[0]))["kid"]
    assert kid != first.kid
    assert resolve_token(db, issued.token).venue.id == venue.id


def test_closed_or_pending_venue_code_is_refused(db: Session) -> None:
    venue = make_venue(db)
    issued = issue_qr(db, venue, base_url=BASE, now=T0)
    venue.status = "closed"
    db.flush()
    from phongdich.core.errors import AppError

    with pytest.raises(AppError) as info:
        resolve_token(db, issued.token)
    assert info.value.code == "qr.venue_not_operating"
