"""People: a citizen's own record, their dependants, walk-ins recorded by staff, and merges.

A dependant (a child, an elderly parent) has no account: the guardian's account acts for them.
Khai hộ ("declaring on someone's behalf") is how staff or a relative records a person without
a phone. Every change is audited; nothing here commits.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from phongdich.audit.service import Actor, record
from phongdich.auth.policy import (
    Principal,
    Target,
    areas_for,
    can,
    require,
    require_somewhere,
)
from phongdich.auth.service import area_ref
from phongdich.core.errors import AppError, Conflict, Forbidden, NotFound
from phongdich.core.phone import normalize_phone
from phongdich.core.text import fold, normalize
from phongdich.models import Area, HistoryLookup, Person, PersonQrCode, User, Venue, Visit
from phongdich.people.ids import CCCD, NONE, SEXES, check_id

MAX_DEPENDANTS = 20


@dataclass(frozen=True)
class PersonDraft:
    """What someone says about a person, before it is checked."""

    full_name: str
    id_type: str = NONE
    id_number: str | None = None
    birth_date: date | None = None
    birth_year: int | None = None
    sex: str | None = None
    phone: str | None = None
    nationality: str = "VN"
    street_address: str | None = None
    area: Area | None = None
    relationship_label: str | None = None


@dataclass(frozen=True)
class CheckedPerson:
    """A draft after validation: normalised values plus the ID flags to store."""

    full_name: str
    id_type: str
    id_number: str | None
    birth_date: date | None
    birth_year: int | None
    sex: str | None
    phone: str | None
    nationality: str
    street_address: str | None
    area_id: int | None
    relationship_label: str | None
    flags: list[str]


def check_draft(draft: PersonDraft, *, today: date) -> CheckedPerson:
    """Normalise and validate; a CCCD disagreeing with birth year or sex is flagged only."""
    name = normalize(draft.full_name)
    if len(name) < 2 or len(name) > 120:
        raise AppError("person.name_invalid", "Vui lòng nhập họ và tên (2–120 ký tự).")
    year = draft.birth_date.year if draft.birth_date else draft.birth_year
    if year is not None and not (1900 <= year <= today.year):
        raise AppError("person.birth_year_invalid", "Năm sinh không hợp lệ.", {"birth_year": year})
    if draft.sex is not None and draft.sex not in SEXES:
        raise AppError("person.sex_invalid", "Giới tính không hợp lệ.", {"sex": draft.sex})
    nationality = (draft.nationality or "VN").strip().upper()
    if not (2 <= len(nationality) <= 3 and nationality.isalpha()):
        raise AppError(
            "person.nationality_invalid",
            "Quốc tịch ghi bằng mã 2 hoặc 3 chữ cái (ví dụ VN, US).",
            {"nationality": draft.nationality},
        )
    checked = check_id(
        draft.id_type,
        draft.id_number,
        nationality=nationality,
        birth_year=year,
        sex=draft.sex,
        today=today,
    )
    if draft.area is not None and draft.area.level != "commune":
        raise AppError("person.area_not_commune", "Địa chỉ cần chọn tới cấp xã, phường.")
    return CheckedPerson(
        full_name=name,
        id_type=checked.id_type,
        id_number=checked.number,
        birth_date=draft.birth_date,
        # A CCCD tells the birth year when the person did not say it.
        birth_year=year if year is not None else checked.birth_year,
        sex=draft.sex if draft.sex is not None else checked.sex,
        phone=normalize_phone(draft.phone) if draft.phone else None,
        nationality=nationality,
        street_address=normalize(draft.street_address or "") or None,
        area_id=draft.area.id if draft.area else None,
        relationship_label=normalize(draft.relationship_label or "")[:40] or None,
        flags=checked.flags,
    )


def person_target(session: Session, person: Person) -> Target:
    """A person as the policy sees it: in their commune, owned by themselves or their guardian."""
    area = session.get(Area, person.area_id) if person.area_id else None
    return Target(
        area=area_ref(area) if area else None,
        object_type="person",
        object_id=person.id,
        owner_user_id=person.user_id or person.guardian_user_id,
    )


def may_act_on(session: Session, principal: Principal | None, action: str, person: Person) -> bool:
    """`can`, plus a rule for people with no recorded commune (walk-ins, foreigners): officials
    of the places they visited may act on them (or any holder of the action, if no visits)."""
    if can(principal, action, person_target(session, person)):
        return True
    if principal is None or person.area_id is not None:
        return False
    refs = areas_for(principal, action)
    if refs is None:
        return True
    venue_areas = list(
        session.scalars(
            select(Area)
            .join(Venue, Venue.area_id == Area.id)
            .where(Venue.id.in_(select(Visit.venue_id).where(Visit.person_id == person.id)))
        )
    )
    if not venue_areas:
        return bool(refs)
    return any(area_ref(a).within(r) for a in venue_areas for r in refs)


def require_on(session: Session, principal: Principal | None, action: str, person: Person) -> None:
    if not may_act_on(session, principal, action, person):
        raise Forbidden(details={"action": action})


def get_person(session: Session, person_id: int) -> Person:
    """The person, following a merge to the record that was kept."""
    person = session.get(Person, person_id)
    seen = 0
    while person is not None and person.merged_into_id is not None and seen < 10:
        person = session.get(Person, person.merged_into_id)
        seen += 1
    if person is None:
        raise NotFound("person.not_found", "Không tìm thấy người này.", {"person_id": person_id})
    return person


def find_by_id_number(session: Session, id_type: str, number: str) -> Person | None:
    return session.scalar(
        select(Person).where(Person.id_type == id_type, Person.id_number == number)
    )


def _check_unique_id(session: Session, checked: CheckedPerson, person_id: int | None) -> None:
    if checked.id_number is None:
        return
    other = find_by_id_number(session, checked.id_type, checked.id_number)
    if other is not None and other.id != person_id:
        raise Conflict(
            "person.id_exists",
            "Số giấy tờ này đã có trong hệ thống. Nếu đó là cùng một người, hãy đề nghị cán bộ "
            "xã gộp hai hồ sơ.",
            {"id_type": checked.id_type},
        )


def _apply(person: Person, checked: CheckedPerson) -> None:
    person.full_name = checked.full_name
    person.name_folded = fold(checked.full_name)
    person.id_type = checked.id_type
    person.id_number = checked.id_number
    person.birth_date = checked.birth_date
    person.birth_year = checked.birth_year
    person.sex = checked.sex
    person.phone = checked.phone
    person.nationality = checked.nationality
    person.street_address = checked.street_address
    person.area_id = checked.area_id
    person.relationship_label = checked.relationship_label
    person.id_flags = checked.flags or None


def _new_person(
    session: Session, checked: CheckedPerson, *, now: datetime, via: str, **links: int | None
) -> Person:
    _check_unique_id(session, checked, None)
    person = Person(created_at=now, created_via=via, nationality="VN", **links)
    _apply(person, checked)
    session.add(person)
    session.flush()
    return person


def self_person(session: Session, user: User) -> Person | None:
    return session.scalar(select(Person).where(Person.user_id == user.id))


def ensure_self(session: Session, actor: Actor, user: User, *, now: datetime) -> Person:
    """The citizen's own record, created from the account on first need."""
    person = self_person(session, user)
    if person is not None:
        return person
    person = Person(
        full_name=user.full_name,
        name_folded=fold(user.full_name),
        id_type=NONE,
        phone=user.phone,
        nationality="VN",
        user_id=user.id,
        created_at=now,
        created_via="self",
    )
    session.add(person)
    session.flush()
    record(session, actor, "person.create", now=now, object_type="person", object_id=person.id)
    return person


def update_person(
    session: Session, actor: Actor, person: Person, draft: PersonDraft, *, now: datetime
) -> Person:
    """The person (or their guardian, or an official of their commune) corrects the record."""
    target = person_target(session, person)
    if not _may_change(actor.principal, target):
        require(actor.principal, "self.change", target)
    checked = check_draft(draft, today=now.date())
    _check_unique_id(session, checked, person.id)
    _apply(person, checked)
    session.flush()
    record(
        session,
        actor,
        "person.update",
        now=now,
        object_type="person",
        object_id=person.id,
        area_id=person.area_id,
        details={"id_type": person.id_type, "flags": checked.flags},
    )
    return person


def _may_change(principal: Principal | None, target: Target) -> bool:
    return can(principal, "self.change", target) or can(principal, "person.merge", target)


def add_dependant(
    session: Session, actor: Actor, guardian: User, draft: PersonDraft, *, now: datetime
) -> Person:
    """A citizen adds a relative without a phone, and from then on acts for them."""
    require(actor.principal, "self.change", Target(owner_user_id=guardian.id))
    count = len(dependants_of(session, guardian))
    if count >= MAX_DEPENDANTS:
        raise AppError(
            "person.too_many_dependants",
            "Mỗi tài khoản khai hộ tối đa {max} người.",
            {"max": MAX_DEPENDANTS},
        )
    checked = check_draft(draft, today=now.date())
    person = _new_person(session, checked, now=now, via="dependant", guardian_user_id=guardian.id)
    record(
        session,
        actor,
        "person.dependant.add",
        now=now,
        object_type="person",
        object_id=person.id,
        details={"guardian_user_id": guardian.id},
    )
    return person


def dependants_of(session: Session, user: User) -> list[Person]:
    return list(
        session.scalars(
            select(Person)
            .where(Person.guardian_user_id == user.id, Person.merged_into_id.is_(None))
            .order_by(Person.id)
        )
    )


def people_of(session: Session, user: User) -> list[Person]:
    """Everyone this account acts for: themselves first (if recorded), then dependants."""
    own = self_person(session, user)
    return ([own] if own else []) + dependants_of(session, user)


def walk_in(
    session: Session,
    actor: Actor,
    *,
    now: datetime,
    full_name: str | None,
    id_type: str = NONE,
    id_number: str | None = None,
    phone: str | None = None,
    birth_year: int | None = None,
    birth_date: date | None = None,
    sex: str | None = None,
    street_address: str | None = None,
) -> tuple[Person, bool]:
    """The person staff are recording without a phone (khai hộ): found by ID number, or by
    phone and name, else created. Returns (person, created)."""
    if id_type != NONE and id_number:
        checked_id = check_id(id_type, id_number, today=now.date())
        found = find_by_id_number(session, id_type, checked_id.number or "")
        if found is not None:
            return get_person(session, found.id), False
    elif phone and full_name:
        phone_e164 = normalize_phone(phone)
        found = session.scalar(
            select(Person)
            .where(
                Person.phone == phone_e164,
                Person.name_folded == fold(full_name),
                Person.merged_into_id.is_(None),
            )
            .limit(1)
        )
        if found is not None:
            return found, False
    else:
        raise AppError(
            "person.walk_in_incomplete",
            "Cần số giấy tờ, hoặc số điện thoại kèm họ tên, để ghi nhận người không có điện thoại.",
        )
    if not full_name:
        raise AppError(
            "person.name_required",
            "Chưa có người này trong hệ thống: vui lòng nhập họ và tên để khai hộ.",
            {"id_number": id_number},
        )
    draft = PersonDraft(
        full_name=full_name,
        id_type=id_type if id_number else NONE,
        id_number=id_number,
        birth_year=birth_year,
        birth_date=birth_date,
        sex=sex,
        phone=phone,
        street_address=street_address,
    )
    person = _new_person(session, check_draft(draft, today=now.date()), now=now, via="staff")
    record(
        session,
        actor,
        "person.create",
        now=now,
        object_type="person",
        object_id=person.id,
        details={"via": "khai_ho", "id_type": person.id_type},
    )
    return person, True


def search_people(
    session: Session, principal: Principal | None, text: str, *, limit: int = 20
) -> list[Person]:
    """Officials find a person by ID number, phone or name (accent-insensitive)."""
    require_somewhere(principal, "person.read")
    text = text.strip()
    if not text:
        return []
    conds = [Person.id_number == "".join(text.split()).upper()]
    with suppress(AppError):  # not a phone number: search by number and name only
        conds.append(Person.phone == normalize_phone(text))
    words = fold(text).split()
    if words and not text.replace(" ", "").isdigit():
        conds.append(and_(*[Person.name_folded.contains(w, autoescape=True) for w in words]))
    return list(
        session.scalars(
            select(Person)
            .where(or_(*conds), Person.merged_into_id.is_(None))
            .order_by(Person.id)
            .limit(limit)
        )
    )


def merge_people(
    session: Session, actor: Actor, keep: Person, duplicate: Person, *, now: datetime
) -> Person:
    """An official merges a duplicate into the record kept: every check-in, dependant link,
    personal QR and look-up moves over; the duplicate stays as a pointer (audited)."""
    if keep.id == duplicate.id:
        raise AppError("person.merge_same", "Không thể gộp một hồ sơ với chính nó.")
    if keep.merged_into_id is not None or duplicate.merged_into_id is not None:
        raise AppError("person.merge_already", "Một trong hai hồ sơ đã được gộp trước đó.")
    require_on(session, actor.principal, "person.merge", keep)
    require_on(session, actor.principal, "person.merge", duplicate)
    if keep.user_id and duplicate.user_id:
        raise AppError(
            "person.merge_two_accounts",
            "Cả hai hồ sơ đều gắn với một tài khoản: không gộp được, hãy khoá một tài khoản trước.",
        )
    if (
        keep.id_number
        and duplicate.id_number
        and (keep.id_type, keep.id_number) != (duplicate.id_type, duplicate.id_number)
        and CCCD in (keep.id_type, duplicate.id_type)
        and keep.id_type == duplicate.id_type
    ):
        raise AppError(
            "person.merge_conflicting_ids",
            "Hai hồ sơ có hai số CCCD khác nhau: đây là hai người khác nhau.",
        )
    moved = session.execute(
        update(Visit).where(Visit.person_id == duplicate.id).values(person_id=keep.id)
    ).rowcount  # type: ignore[attr-defined]
    session.execute(
        update(HistoryLookup)
        .where(HistoryLookup.person_id == duplicate.id)
        .values(person_id=keep.id)
    )
    session.execute(
        update(PersonQrCode)
        .where(PersonQrCode.person_id == duplicate.id, PersonQrCode.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    snapshot = {
        "full_name": duplicate.full_name,
        "id_type": duplicate.id_type,
        "birth_year": duplicate.birth_year,
        "visits_moved": moved,
    }
    # The kept record takes what it lacks from the duplicate.
    if duplicate.user_id and not keep.user_id:
        keep.user_id, duplicate.user_id = duplicate.user_id, None
        session.flush()
    if not keep.guardian_user_id and duplicate.guardian_user_id:
        keep.guardian_user_id = duplicate.guardian_user_id
    if keep.id_number is None and duplicate.id_number is not None:
        id_type, id_number = duplicate.id_type, duplicate.id_number
        duplicate.id_type, duplicate.id_number = NONE, None
        session.flush()  # (id_type, id_number) is unique: free it before the kept record takes it
        keep.id_type, keep.id_number = id_type, id_number
        snapshot["id_number_moved"] = True
    for attr in ("birth_date", "birth_year", "sex", "phone", "street_address", "area_id"):
        if getattr(keep, attr) is None and getattr(duplicate, attr) is not None:
            setattr(keep, attr, getattr(duplicate, attr))
    duplicate.merged_into_id = keep.id
    duplicate.merged_at = now
    duplicate.guardian_user_id = None
    duplicate.qr_serial = None
    session.flush()
    record(
        session,
        actor,
        "person.merge",
        now=now,
        object_type="person",
        object_id=keep.id,
        area_id=keep.area_id,
        details={"merged_person_id": duplicate.id, **snapshot},
    )
    return keep
