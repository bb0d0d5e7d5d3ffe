"""Venues inserted straight through the ORM (any status, any creation time, no audit rows), for
tests of QR codes, posters, activity and reports. `tests/venues/factories.py` builds venues
through the registration services instead."""

from __future__ import annotations

from datetime import datetime
from itertools import count

from sqlalchemy import select
from sqlalchemy.orm import Session

from phongdich.areas.queries import get_area
from phongdich.core.shortcode import ALPHABET, check_character
from phongdich.core.text import fold
from phongdich.models import Venue, VenueLocation, VenueType
from tests.conftest import T0
from tests.factories import SONG_HIEN

_seq = count(1)


def _code(n: int) -> str:
    """Distinct, well-formed short codes from a counter."""
    body = ""
    for _ in range(7):
        n, r = divmod(n, len(ALPHABET))
        body = ALPHABET[r] + body
    return body + check_character(body)


def venue_type(db: Session, code: str = "market") -> VenueType:
    found = db.scalar(select(VenueType).where(VenueType.code == code))
    if found is None:  # built-in types come from migration 0002; a test may need another
        found = VenueType(
            code=code, name=code, name_en=code, default_stay_minutes=60, is_builtin=False
        )
        db.add(found)
        db.flush()
    return found


def make_venue(
    db: Session,
    *,
    name: str | None = None,
    commune: tuple[str, str] = SONG_HIEN,
    type_code: str = "market",
    status: str = "approved",
    owner_user_id: int | None = None,
    contact_phone: str | None = "+84912345678",
    created_at: datetime = T0,
    street_address: str = "Số 1 đường Kim Đồng",
) -> Venue:
    n = next(_seq)
    name = name or f"Chợ Xanh số {n}"
    venue = Venue(
        name=name,
        name_folded=fold(name),
        type_id=venue_type(db, type_code).id,
        street_address=street_address,
        area_id=get_area(db, "2021", *commune).id,
        owner_user_id=owner_user_id,
        contact_phone=contact_phone,
        status=status,
        registered_via="official",
        short_code=_code(10_000 + n * 7919),
        created_at=created_at,
        approved_at=created_at if status != "pending" else None,
    )
    db.add(venue)
    db.flush()
    return venue


def make_location(db: Session, venue: Venue, name: str = "Cổng chính") -> VenueLocation:
    location = VenueLocation(
        venue_id=venue.id,
        name=name,
        kind="gate",
        short_code=_code(5_000_000 + next(_seq) * 104729),
        created_at=venue.created_at,
    )
    db.add(location)
    db.flush()
    return location
