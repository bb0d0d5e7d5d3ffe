"""Builders for people and check-in tests, through the real services."""

from __future__ import annotations

from itertools import count

from sqlalchemy.orm import Session

from phongdich.audit.service import Actor
from phongdich.auth.roles import Role
from phongdich.auth.service import CLI_PRINCIPAL
from phongdich.auth.tokens import create_api_token
from phongdich.models import Person, User, Venue
from phongdich.people.personal_qr import token_for
from phongdich.people.service import PersonDraft, add_dependant, ensure_self
from tests.conftest import T0
from tests.venues.factories import actor_of, citizen, official_venue

ADMIN = Actor(CLI_PRINCIPAL, "cli")
_n = count(1)


def citizen_with_person(db: Session, name: str = "Triệu Thị Dân") -> tuple[User, Person]:
    user = citizen(db, name=name)
    return user, ensure_self(db, actor_of(db, user), user, now=T0)


def dependant(db: Session, guardian: User, name: str = "Triệu Văn Bé") -> Person:
    return add_dependant(
        db,
        actor_of(db, guardian),
        guardian,
        PersonDraft(full_name=name, birth_year=2015, sex="male", relationship_label="con"),
        now=T0,
    )


def venue(db: Session, name: str | None = None, type_code: str = "restaurant") -> Venue:
    return official_venue(db, name=name or f"Quán số {next(_n)}", type_code=type_code)


def qr_of(db: Session, person: Person) -> str:
    """The person's current personal QR token (issued on first need), as their page shows it."""
    owner = person.user_id or person.guardian_user_id
    user = db.get(User, owner)
    assert user is not None
    return token_for(db, actor_of(db, user), person, now=T0)


def device_token(db: Session, venue: Venue, name: str = "Máy quét cổng") -> tuple[str, int]:
    secret, token = create_api_token(
        db,
        ADMIN,
        now=T0,
        name=name,
        role=Role.VENUE_STAFF,
        object_type="venue",
        object_id=venue.id,
    )
    return secret, token.id
