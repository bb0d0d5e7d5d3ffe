"""Builders for tracing tests: people with addresses, visits at exact times, officers."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count

from sqlalchemy.orm import Session

from phongdich.areas.queries import get_area
from phongdich.audit.service import Actor
from phongdich.auth.roles import Role
from phongdich.auth.service import principal_for
from phongdich.core.clock import VN_TZ
from phongdich.core.text import fold
from phongdich.models import Person, User, Venue, Visit
from tests.conftest import T0
from tests.factories import SONG_HIEN, TP_CAO_BANG, official
from tests.venues.orm_factories import make_venue

_n = count(1)


def at(day: int, hh: int, mm: int = 0) -> datetime:
    """A moment in November 2021, Vietnam time (T0 is 15/11 09:00)."""
    return datetime(2021, 11, day, hh, mm, tzinfo=VN_TZ)


def officer(db: Session, area: tuple[str, str] = TP_CAO_BANG, name: str = "") -> tuple[User, Actor]:
    user = official(db, Role.HEALTH_OFFICER, area, name=name)
    return user, Actor(principal_for(db, user))


def person(
    db: Session,
    name: str | None = None,
    *,
    commune: tuple[str, str] | None = SONG_HIEN,
    address: str | None = None,
    phone: str | None = None,
    user: User | None = None,
    guardian: User | None = None,
) -> Person:
    n = next(_n)
    name = name or f"Người thử {n}"
    p = Person(
        id_type="none",
        full_name=name,
        name_folded=fold(name),
        phone=phone,
        nationality="VN",
        street_address=address if address is not None else f"Số {n} ngõ {n}",
        area_id=get_area(db, "2021", *commune).id if commune else None,
        user_id=user.id if user else None,
        guardian_user_id=guardian.id if guardian else None,
        created_at=T0 - timedelta(days=30),
        created_via="staff",
    )
    db.add(p)
    db.flush()
    return p


def visit(
    db: Session,
    who: Person,
    where: Venue,
    start: datetime,
    end: datetime | None = None,
    *,
    rule: str | None = "explicit",
    stay_minutes: int = 60,
) -> Visit:
    """A visit at exact times; `end=None` leaves it open (its end is then derived)."""
    v = Visit(
        person_id=who.id,
        venue_id=where.id,
        source="khai_ho",
        checked_in_at=start,
        last_seen_at=start,
        checked_out_at=end,
        end_rule=rule if end is not None else None,
        default_stay_minutes=stay_minutes,
        received_at=start,
    )
    db.add(v)
    db.flush()
    return v


def venue(db: Session, name: str | None = None, **kwargs: object) -> Venue:
    return make_venue(db, name=name or f"Quán thử {next(_n)}", **kwargs)  # type: ignore[arg-type]
