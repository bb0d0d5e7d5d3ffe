"""Builders for venue tests, going through the real services."""

from __future__ import annotations

from itertools import count

from sqlalchemy.orm import Session

from phongdich.areas.queries import get_area
from phongdich.audit.service import SYSTEM, Actor
from phongdich.auth.roles import Role
from phongdich.auth.service import create_user, principal_for
from phongdich.models import User, Venue
from phongdich.venues.service import VenueDraft, create_venue, make_draft, register_venue
from tests.conftest import T0
from tests.factories import SONG_HIEN, TP_CAO_BANG, official

_phones = count(1)


def new_phone() -> str:
    """A fresh, valid Vietnamese mobile number for each call."""
    return f"09{next(_phones):08d}"


def citizen(db: Session, phone: str | None = None, name: str = "Chủ quán") -> User:
    """A citizen account, as a first phone-code sign-in would create it."""
    return create_user(
        db,
        SYSTEM,
        now=T0,
        full_name=name,
        phone=phone or new_phone(),
        role=Role.CITIZEN,
        check=False,
    )


def actor_of(db: Session, user: User) -> Actor:
    return Actor(principal_for(db, user))


def draft(
    db: Session,
    *,
    name: str = "Quán phở Hương",
    commune: tuple[str, str] = SONG_HIEN,
    scheme: str = "2021",
    type_code: str = "restaurant",
    phone: str | None = None,
) -> VenueDraft:
    return make_draft(
        db,
        name=name,
        type_code=type_code,
        street_address="Số 5, đường Vườn Cam",
        commune=get_area(db, scheme, *commune),
        contact_phone=phone,
    )


def registered_venue(db: Session, owner: User | None = None, **kwargs: object) -> Venue:
    """A venue an owner registered themselves (pending unless the area auto-approves)."""
    owner = owner or citizen(db)
    return register_venue(db, actor_of(db, owner), draft(db, **kwargs), now=T0)  # type: ignore[arg-type]


def official_venue(db: Session, **kwargs: object) -> Venue:
    """A venue created by a district official of TP Cao Bằng (approved at once)."""
    me = official(db, Role.DISTRICT_OFFICIAL, TP_CAO_BANG)
    return create_venue(db, actor_of(db, me), draft(db, **kwargs), now=T0)  # type: ignore[arg-type]
