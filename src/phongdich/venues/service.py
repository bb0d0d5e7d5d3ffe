"""The venue life cycle: register, create, approve or reject, close and reopen, sub-locations.

Every function takes the session and the acting person, checks permission with the policy,
flushes and never commits: the request, CLI command or job that called it owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from phongdich.areas.service import effective_setting
from phongdich.audit.service import Actor, record
from phongdich.auth.policy import Target, can, require
from phongdich.auth.roles import Role
from phongdich.auth.service import area_ref, grant_role
from phongdich.core.errors import AppError, Conflict
from phongdich.core.phone import normalize_phone
from phongdich.core.shortcode import new_short_code
from phongdich.core.text import fold, normalize
from phongdich.messaging.sms import SmsSender
from phongdich.models import Area, User, Venue, VenueLocation, VenueType
from phongdich.venues.queries import (
    APPROVED,
    CLOSED,
    PENDING,
    REJECTED,
    PossibleDuplicate,
    find_duplicates,
    venue_target,
)
from phongdich.venues.types import get_type

LOCATION_KINDS = ("gate", "floor", "room", "other")
_CODE_ATTEMPTS = 5


@dataclass(frozen=True)
class VenueDraft:
    """What a person or an import row says about a new venue, checked and normalised."""

    name: str
    type: VenueType
    street_address: str
    commune: Area
    contact_phone: str | None

    @property
    def name_folded(self) -> str:
        return fold(self.name)


def clean_name(raw: str) -> str:
    name = normalize(raw)
    if len(name) < 2 or len(name) > 200:
        raise AppError(
            "venue.name_invalid",
            "Tên địa điểm phải có từ 2 đến 200 ký tự.",
            {"field": "name"},
        )
    return name


def clean_address(raw: str) -> str:
    address = normalize(raw)
    if not address or len(address) > 300:
        raise AppError(
            "venue.address_invalid",
            "Vui lòng nhập địa chỉ (số nhà, đường, thôn, xóm), tối đa 300 ký tự.",
            {"field": "street_address"},
        )
    return address


def check_commune(area: Area) -> Area:
    if area.level != "commune":
        raise AppError(
            "venue.area_not_commune",
            "Địa điểm phải thuộc một xã, phường hoặc thị trấn.",
            {"level": area.level, "code": area.code},
        )
    return area


def make_draft(
    session: Session,
    *,
    name: str,
    type_code: str,
    street_address: str,
    commune: Area,
    contact_phone: str | None,
) -> VenueDraft:
    """Check and normalise the fields of a new venue (Vietnamese errors naming the field)."""
    return VenueDraft(
        name=clean_name(name),
        type=get_type(session, type_code),
        street_address=clean_address(street_address),
        commune=check_commune(commune),
        contact_phone=normalize_phone(contact_phone) if contact_phone else None,
    )


class DuplicateSuspected(Conflict):
    """A likely duplicate: a warning the person may override by confirming."""

    def __init__(self, duplicates: Sequence[PossibleDuplicate]) -> None:
        super().__init__(
            "venue.possible_duplicate",
            "Có thể địa điểm này đã được đăng ký (trùng tên trong cùng xã hoặc trùng số điện "
            "thoại). Hãy kiểm tra danh sách; nếu đúng là địa điểm khác, hãy xác nhận để tiếp tục.",
            {"duplicates": [d.__dict__ for d in duplicates]},
        )


def _taken_codes(session: Session, codes: set[str]) -> set[str]:
    """Codes already used by a venue or a sub-location: one code names one place to scan."""
    taken: set[str] = set()
    batch = list(codes)
    for i in range(0, len(batch), 500):
        chunk = batch[i : i + 500]
        taken |= set(session.scalars(select(Venue.short_code).where(Venue.short_code.in_(chunk))))
        taken |= set(
            session.scalars(
                select(VenueLocation.short_code).where(VenueLocation.short_code.in_(chunk))
            )
        )
    return taken


def _fresh_codes(session: Session, n: int) -> list[str]:
    codes: set[str] = set()
    while len(codes) < n:
        while len(codes) < n:
            codes.add(new_short_code())
        codes -= _taken_codes(session, codes)
    return list(codes)


def insert_with_codes(session: Session, rows: Sequence[Venue | VenueLocation]) -> None:
    """Give each new row a fresh short code and flush them together.

    The codes are checked against both tables first; the unique constraints still decide when
    two requests pick the same code at the same moment, so a clash is retried with new codes.
    """
    for attempt in range(_CODE_ATTEMPTS):
        for row, code in zip(rows, _fresh_codes(session, len(rows)), strict=True):
            row.short_code = code
        try:
            with session.begin_nested():
                session.add_all(rows)
                session.flush()
            return
        except IntegrityError:
            if attempt == _CODE_ATTEMPTS - 1:
                raise


def insert_many_venues(session: Session, venues: Sequence[Venue]) -> list[int]:
    """Write new venues with fresh short codes in one multi-row INSERT (SQLAlchemy splits very
    long ones); returns their ids in order. The objects only carry the values: they are not
    added to the session.

    The ORM inserts new rows one statement each on SQLite (it cannot match the ids of one
    multi-row INSERT … RETURNING to its rows there): 20,000 imported venues held SQLite's one
    writer for 5.6 s, every scan on the server waiting behind it. Here the rows go in without
    RETURNING, and their ids are read back by their short codes, which are unique. A code
    another writer took in between is drawn again, as `insert_with_codes` does.
    """
    for attempt in range(_CODE_ATTEMPTS):
        codes = _fresh_codes(session, len(venues))
        values = [{**_set_values(v), "short_code": c} for v, c in zip(venues, codes, strict=True)]
        try:
            with session.begin_nested():
                session.execute(insert(Venue), values)
            break
        except IntegrityError:
            if attempt == _CODE_ATTEMPTS - 1:
                raise
    by_code: dict[str, int] = {}
    for i in range(0, len(codes), 500):
        rows = session.execute(
            select(Venue.short_code, Venue.id).where(Venue.short_code.in_(codes[i : i + 500]))
        )
        by_code.update({code: venue_id for code, venue_id in rows})
    return [by_code[c] for c in codes]


def _set_values(row: Venue) -> dict[str, Any]:
    """The column values set on a new (transient) venue; the table's defaults fill the rest."""
    columns = Venue.__table__.columns.keys()
    return {k: v for k, v in inspect(row).dict.items() if k in columns}


def build_venue(draft: VenueDraft, *, now: datetime, via: str, status: str) -> Venue:
    return Venue(
        name=draft.name,
        name_folded=draft.name_folded,
        type_id=draft.type.id,
        street_address=draft.street_address,
        area_id=draft.commune.id,
        contact_phone=draft.contact_phone,
        status=status,
        registered_via=via,
        created_at=now,
    )


def _check_duplicates(session: Session, draft: VenueDraft, confirmed: bool) -> None:
    if confirmed:
        return
    duplicates = find_duplicates(
        session,
        name_folded=draft.name_folded,
        area_id=draft.commune.id,
        contact_phone=draft.contact_phone,
    )
    if duplicates:
        raise DuplicateSuspected(duplicates)


def register_venue(
    session: Session,
    actor: Actor,
    draft: VenueDraft,
    *,
    now: datetime,
    confirm_duplicate: bool = False,
) -> Venue:
    """An owner, signed in with a phone code, registers their venue and becomes its owner.

    The venue waits for a commune or district official unless the area approves automatically.
    """
    principal = actor.principal
    require(
        principal,
        "venue.register",
        Target(area=area_ref(draft.commune), owner_user_id=principal.user_id if principal else 0),
    )
    assert principal is not None and principal.user_id is not None  # `require` passed
    owner = session.get(User, principal.user_id)
    assert owner is not None
    if draft.contact_phone is None and owner.phone:
        draft = VenueDraft(draft.name, draft.type, draft.street_address, draft.commune, owner.phone)
    _check_duplicates(session, draft, confirm_duplicate)
    auto = effective_setting(session, draft.commune, "venue_auto_approve") == "true"
    venue = build_venue(draft, now=now, via="self", status=APPROVED if auto else PENDING)
    venue.owner_user_id = owner.id
    if auto:
        venue.approved_at = now
    insert_with_codes(session, [venue])
    grant_role(
        session,
        actor,
        owner,
        Role.VENUE_OWNER,
        now=now,
        object_type="venue",
        object_id=venue.id,
        check=False,
    )
    _audit(session, actor, "venue.register", venue, now=now, details={"auto_approved": auto})
    return venue


def create_venue(
    session: Session,
    actor: Actor,
    draft: VenueDraft,
    *,
    now: datetime,
    confirm_duplicate: bool = False,
) -> Venue:
    """An official creates a venue in their own area; it is approved at once."""
    require(actor.principal, "venue.create", Target(area=area_ref(draft.commune)))
    _check_duplicates(session, draft, confirm_duplicate)
    venue = build_venue(draft, now=now, via="official", status=APPROVED)
    venue.approved_at = now
    venue.approved_by_id = actor.principal.user_id if actor.principal else None
    insert_with_codes(session, [venue])
    _audit(session, actor, "venue.create", venue, now=now)
    return venue


def _audit(
    session: Session,
    actor: Actor,
    action: str,
    venue: Venue,
    *,
    now: datetime,
    details: dict[str, object] | None = None,
) -> None:
    record(
        session,
        actor,
        action,
        now=now,
        object_type="venue",
        object_id=venue.id,
        area_id=venue.area_id,
        details={"status": venue.status, **(details or {})},
    )


def _area_of(session: Session, venue: Venue) -> Area:
    area = session.get(Area, venue.area_id)
    assert area is not None  # a foreign key
    return area


def _wrong_status(venue: Venue, action: str) -> AppError:
    return Conflict(
        "venue.status_invalid",
        "Không thể thực hiện thao tác này với địa điểm ở trạng thái hiện tại.",
        {"status": venue.status, "action": action},
    )


def approve_venue(
    session: Session, actor: Actor, venue: Venue, *, now: datetime, sms: SmsSender | None = None
) -> Venue:
    """A commune or district official of the venue's area approves a pending registration;
    with a sender, the owner is told by SMS."""
    require(actor.principal, "venue.approve", venue_target(venue, _area_of(session, venue)))
    if venue.status not in (PENDING, REJECTED):
        raise _wrong_status(venue, "approve")
    venue.status, venue.approved_at = APPROVED, now
    venue.approved_by_id = actor.principal.user_id if actor.principal else None
    session.flush()
    _audit(session, actor, "venue.approve", venue, now=now)
    _tell_owner(
        session,
        venue,
        f"phongdich: Địa điểm «{_short(venue.name, 80)}» đã được duyệt. Đăng nhập để in mã QR "
        "check-in và thêm nhân viên.",
        sms=sms,
        now=now,
    )
    return venue


def _tell_owner(
    session: Session, venue: Venue, body: str, *, sms: SmsSender | None, now: datetime
) -> None:
    """An SMS about a decision on the venue, to its contact phone or else its owner's phone
    (a registration made by an official has no owner to tell)."""
    if sms is None or venue.owner_user_id is None:
        return
    owner = session.get(User, venue.owner_user_id)
    phone = venue.contact_phone or (owner.phone if owner else None)
    if phone:
        sms.queue(session, phone, body, "venue_decision", now)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def reject_venue(
    session: Session,
    actor: Actor,
    venue: Venue,
    *,
    now: datetime,
    reason: str,
    sms: SmsSender | None = None,
) -> Venue:
    """Refuse a pending registration, saying why (the owner sees the reason, and with a sender
    gets it by SMS)."""
    require(actor.principal, "venue.approve", venue_target(venue, _area_of(session, venue)))
    reason = normalize(reason)
    if not reason or len(reason) > 500:
        raise AppError(
            "venue.reason_required",
            "Vui lòng ghi lý do từ chối (tối đa 500 ký tự).",
            {"field": "reason"},
        )
    if venue.status != PENDING:
        raise _wrong_status(venue, "reject")
    venue.status = REJECTED
    session.flush()
    _audit(session, actor, "venue.reject", venue, now=now, details={"reason": reason})
    _tell_owner(
        session,
        venue,
        f"phongdich: Đăng ký địa điểm «{_short(venue.name, 80)}» chưa được duyệt. Lý do: "
        f"{_short(reason, 160)}",
        sms=sms,
        now=now,
    )
    return venue


def close_venue(
    session: Session, actor: Actor, venue: Venue, *, now: datetime, reason: str = ""
) -> Venue:
    """Close a venue (it stops taking check-ins); the owner or an official of the area."""
    require(actor.principal, "venue.manage", venue_target(venue, _area_of(session, venue)))
    if venue.status in (CLOSED, REJECTED):
        raise _wrong_status(venue, "close")
    venue.status, venue.closed_at = CLOSED, now
    session.flush()
    _audit(session, actor, "venue.close", venue, now=now, details={"reason": normalize(reason)})
    return venue


def reopen_venue(session: Session, actor: Actor, venue: Venue, *, now: datetime) -> Venue:
    """Reopen a closed venue: approved again if it had been approved, else back to review."""
    require(actor.principal, "venue.manage", venue_target(venue, _area_of(session, venue)))
    if venue.status != CLOSED:
        raise _wrong_status(venue, "reopen")
    venue.status = APPROVED if venue.approved_at else PENDING
    venue.closed_at = None
    session.flush()
    _audit(session, actor, "venue.reopen", venue, now=now)
    return venue


@dataclass(frozen=True)
class VenueEdit:
    """What an owner or an official changes of a venue; None leaves a field as it is. The
    commune is not among them: it decides who oversees the venue."""

    name: str | None = None
    type_code: str | None = None
    street_address: str | None = None
    contact_phone: str | None = None  # "" removes it


def edit_venue(
    session: Session, actor: Actor, venue: Venue, edit: VenueEdit, *, now: datetime
) -> dict[str, list[object]]:
    """Change a venue's name, type, address or phone (its owner or an official of its area);
    returns what changed, {field: [before, after]}, audited. A refused registration that its
    owner corrects goes back to the commune for review. Codes and posters stay valid (they
    carry the venue's code, not its name); a new name needs a new print of the poster."""
    target = venue_target(venue, _area_of(session, venue))
    require(actor.principal, "venue.manage", target)
    wanted: dict[str, object] = {}
    if edit.name is not None:
        wanted["name"] = clean_name(edit.name)
    if edit.type_code is not None:
        wanted["type_id"] = get_type(session, edit.type_code).id
    if edit.street_address is not None:
        wanted["street_address"] = clean_address(edit.street_address)
    if edit.contact_phone is not None:
        wanted["contact_phone"] = (
            normalize_phone(edit.contact_phone) if edit.contact_phone.strip() else None
        )
    changes = {
        field: [getattr(venue, field), value]
        for field, value in wanted.items()
        if getattr(venue, field) != value
    }
    if not changes:
        return changes
    for field, (_, value) in changes.items():
        setattr(venue, field, value)
    if "name" in changes:
        venue.name_folded = fold(venue.name)
    # The owner's correction goes back for review; the commune's own edit is no resubmission.
    resubmitted = venue.status == REJECTED and not can(actor.principal, "venue.approve", target)
    if resubmitted:
        venue.status = PENDING
    session.flush()
    _audit(
        session,
        actor,
        "venue.edit",
        venue,
        now=now,
        details={"changes": changes, **({"resubmitted": True} if resubmitted else {})},
    )
    return changes


def add_location(
    session: Session, actor: Actor, venue: Venue, *, now: datetime, name: str, kind: str
) -> VenueLocation:
    """A gate, floor or room with its own short code, so scans say where inside people were."""
    require(actor.principal, "venue.manage", venue_target(venue, _area_of(session, venue)))
    name = normalize(name)
    if not name or len(name) > 120:
        raise AppError(
            "venue.location_name_invalid",
            "Tên vị trí (cổng, tầng, phòng) phải có từ 1 đến 120 ký tự.",
            {"field": "name"},
        )
    if kind not in LOCATION_KINDS:
        raise AppError(
            "venue.location_kind_invalid",
            "Loại vị trí không hợp lệ (cổng, tầng, phòng hoặc khác).",
            {"kind": kind, "allowed": list(LOCATION_KINDS)},
        )
    location = VenueLocation(venue_id=venue.id, name=name, kind=kind, created_at=now)
    insert_with_codes(session, [location])
    _audit(
        session,
        actor,
        "venue.location.add",
        venue,
        now=now,
        details={"location_id": location.id, "name": name, "kind": kind},
    )
    return location


def remove_location(
    session: Session, actor: Actor, venue: Venue, location_id: int, *, now: datetime
) -> None:
    require(actor.principal, "venue.manage", venue_target(venue, _area_of(session, venue)))
    location = session.get(VenueLocation, location_id)
    if location is None or location.venue_id != venue.id:
        raise AppError(
            "venue.location_not_found",
            "Không tìm thấy vị trí này trong địa điểm.",
            {"location_id": location_id},
            status=404,
        )
    session.delete(location)
    session.flush()
    _audit(
        session,
        actor,
        "venue.location.remove",
        venue,
        now=now,
        details={"location_id": location_id, "short_code": location.short_code},
    )


def locations_of(session: Session, venue: Venue) -> list[VenueLocation]:
    """Sub-locations in the order they were added (callers have already checked access)."""
    return list(
        session.scalars(
            select(VenueLocation)
            .where(VenueLocation.venue_id == venue.id)
            .order_by(VenueLocation.id)
        )
    )
