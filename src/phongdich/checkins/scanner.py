"""What a scanner page receives, turned into a person: a personal QR (URL or bare token), the
chip CCCD card's QR (pipe-separated), or an ID number typed by hand.

A keyboard-wedge scanner "types" what it reads and presses Enter, so the page cannot know in
advance which of these it gets; the shape of the text decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from phongdich.audit.service import Actor
from phongdich.checkins.service import (
    HARDWARE_SCANNER,
    KHAI_HO,
    Recorded,
    record_check_in,
    require_venue_scan,
)
from phongdich.core.errors import AppError
from phongdich.models import Person, Venue
from phongdich.people.ids import CCCD, NONE, guess_id_type, looks_like_chip_qr, parse_chip_qr
from phongdich.people.personal_qr import resolve_person_token, token_from_text
from phongdich.people.service import find_by_id_number, get_person, walk_in


@dataclass(frozen=True)
class Identified:
    person: Person
    source: str
    created: bool = False  # a new record was made (chip card of someone not yet known)


def identify(session: Session, actor: Actor, text: str, *, now: datetime) -> Identified:
    """The person behind scanned or typed text (InvalidToken / AppError when not found)."""
    text = (text or "").strip()
    if not text:
        raise AppError("scanner.empty", "Chưa nhận được mã nào. Hãy quét lại.")
    if looks_like_chip_qr(text):
        card = parse_chip_qr(text)
        person, created = walk_in(
            session,
            actor,
            now=now,
            full_name=card.full_name,
            id_type=CCCD,
            id_number=card.number,
            birth_date=card.birth_date,
            sex=card.sex,
            street_address=card.address,
        )
        return Identified(person, HARDWARE_SCANNER, created)
    id_type = guess_id_type(text)
    if id_type is not None:
        number = "".join(text.split()).upper()
        found = find_by_id_number(session, id_type, number)
        if found is None:
            raise AppError(
                "scanner.person_unknown",
                "Chưa có người mang số giấy tờ này. Hãy khai hộ (nhập họ tên) ở mục bên dưới.",
                {"id_type": id_type, "id_number": number},
                status=404,
            )
        return Identified(get_person(session, found.id), KHAI_HO)
    return Identified(resolve_person_token(session, token_from_text(text)), HARDWARE_SCANNER)


def record_walk_in(
    session: Session,
    actor: Actor,
    venue: Venue,
    *,
    now: datetime,
    full_name: str | None,
    id_type: str = NONE,
    id_number: str | None = None,
    phone: str | None = None,
    birth_year: int | None = None,
) -> tuple[Recorded, Person]:
    """Khai hộ at a venue: find or create the person without a phone, then check them in.
    The right to scan at this venue is checked before anyone is created."""
    require_venue_scan(session, actor, venue)
    person, _created = walk_in(
        session,
        actor,
        now=now,
        full_name=full_name,
        id_type=id_type,
        id_number=id_number,
        phone=phone,
        birth_year=birth_year,
    )
    recorded = record_check_in(session, actor, person=person, venue=venue, now=now, source=KHAI_HO)
    return recorded, person
