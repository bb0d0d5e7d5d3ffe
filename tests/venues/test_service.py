"""The venue life cycle on a real database: registration, approval, scope, staff, sub-locations."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from phongdich.areas.queries import get_area
from phongdich.areas.service import change_setting
from phongdich.auth.policy import can
from phongdich.auth.roles import Role
from phongdich.auth.service import principal_for
from phongdich.core.errors import AppError, Conflict, Forbidden
from phongdich.core.shortcode import parse_short_code
from phongdich.messaging.sms import OutboxSender
from phongdich.models import AuditEntry, RoleGrant, SmsMessage, User, VenueType
from phongdich.venues.queries import VenueFilter, load_venue, venue_target, visible_venues
from phongdich.venues.service import (
    DuplicateSuspected,
    VenueEdit,
    add_location,
    approve_venue,
    close_venue,
    create_venue,
    edit_venue,
    locations_of,
    register_venue,
    reject_venue,
    remove_location,
    reopen_venue,
)
from phongdich.venues.staff import add_staff, list_staff, remove_staff
from phongdich.venues.types import BUILTIN_TYPES, create_type, list_types
from tests.conftest import T0
from tests.factories import HOA_AN, HOANG_TUNG, PROVINCE, SONG_HIEN, TP_CAO_BANG, official
from tests.venues.factories import actor_of, citizen, draft, new_phone, registered_venue


def audit_actions(db: Session, venue_id: int) -> list[str]:
    return list(
        db.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.object_type == "venue", AuditEntry.object_id == str(venue_id))
            .order_by(AuditEntry.id)
        )
    )


def test_the_migration_seeds_the_types_of_the_guidance(db: Session) -> None:
    stored = {t.code: t for t in list_types(db) if t.is_builtin}
    assert set(stored) == {b.code for b in BUILTIN_TYPES}
    assert len(stored) == 12
    for b in BUILTIN_TYPES:
        row = stored[b.code]
        assert (row.name, row.name_en, row.default_stay_minutes) == (
            b.name,
            b.name_en,
            b.default_stay_minutes,
        )
    assert stored["market"].name == "Siêu thị, chợ"


def test_an_admin_adds_a_type_and_a_district_official_cannot(db: Session) -> None:
    admin = actor_of(db, official(db, Role.ADMIN, PROVINCE))
    added = create_type(
        db,
        admin,
        now=T0,
        code="religious_site",
        name="Cơ sở tôn giáo",
        name_en="Religious site",
        default_stay_minutes=90,
    )
    assert not added.is_builtin
    assert "religious_site" in {t.code for t in list_types(db)}
    with pytest.raises(Conflict):
        create_type(
            db, admin, now=T0, code="religious_site", name="X", name_en="X", default_stay_minutes=5
        )
    with pytest.raises(AppError) as bad:
        create_type(
            db, admin, now=T0, code="Bad Code!", name="X", name_en="X", default_stay_minutes=5
        )
    assert bad.value.code == "venue_type.code_invalid"
    district = actor_of(db, official(db, Role.DISTRICT_OFFICIAL, TP_CAO_BANG))
    with pytest.raises(Forbidden):
        create_type(
            db, district, now=T0, code="spa", name="Spa", name_en="Spa", default_stay_minutes=60
        )


def test_an_owner_registers_and_an_official_of_the_commune_approves(db: Session) -> None:
    owner = citizen(db, phone="0912 000 111")
    venue = register_venue(db, actor_of(db, owner), draft(db), now=T0)
    assert venue.status == "pending"
    assert venue.owner_user_id == owner.id
    assert venue.contact_phone == "+84912000111"  # the owner's phone when none is given
    assert parse_short_code(venue.short_code) == venue.short_code
    # The citizen is now the venue's owner, for this venue only.
    me = principal_for(db, owner)
    assert can(me, "venue.staff.manage", venue_target(venue, get_area(db, "2021", *SONG_HIEN)))
    assert not can(me, "venue.approve", venue_target(venue, get_area(db, "2021", *SONG_HIEN)))

    # An official of another district may neither see nor approve it.
    elsewhere = actor_of(db, official(db, Role.DISTRICT_OFFICIAL, HOA_AN))
    with pytest.raises(Forbidden):
        approve_venue(db, elsewhere, venue, now=T0)
    with pytest.raises(Forbidden):
        load_venue(db, elsewhere.principal, venue.id)
    # The owner cannot approve their own venue.
    with pytest.raises(Forbidden):
        approve_venue(db, actor_of(db, owner), venue, now=T0)

    commune = official(db, Role.COMMUNE_OFFICIAL, SONG_HIEN)
    approve_venue(db, actor_of(db, commune), venue, now=T0, sms=OutboxSender())
    assert venue.status == "approved"
    # The owner is told by SMS.
    told = db.scalars(select(SmsMessage).where(SmsMessage.purpose == "venue_decision")).one()
    assert told.phone == "+84912000111" and "«Quán phở Hương» đã được duyệt" in told.body
    assert venue.approved_by_id == commune.id and venue.approved_at == T0
    assert audit_actions(db, venue.id) == ["venue.register", "venue.approve"]
    with pytest.raises(Conflict):
        approve_venue(db, actor_of(db, commune), venue, now=T0)


def test_registration_is_approved_at_once_where_the_area_says_so(db: Session) -> None:
    # The setting is made at district level and applies to its communes.
    district = actor_of(db, official(db, Role.DISTRICT_OFFICIAL, TP_CAO_BANG))
    change_setting(
        db, district, get_area(db, "2021", *TP_CAO_BANG), "venue_auto_approve", "true", now=T0
    )
    auto = registered_venue(db)
    assert auto.status == "approved" and auto.approved_at == T0
    other = registered_venue(db, commune=HOANG_TUNG)  # Hòa An kept the default
    assert other.status == "pending"


def test_only_a_citizen_registers_and_only_an_official_creates(db: Session) -> None:
    official_actor = actor_of(db, official(db, Role.COMMUNE_OFFICIAL, SONG_HIEN))
    with pytest.raises(Forbidden):
        register_venue(db, official_actor, draft(db), now=T0)
    venue = create_venue(db, official_actor, draft(db, name="Chợ Sông Hiến"), now=T0)
    assert (venue.status, venue.registered_via, venue.owner_user_id) == (
        "approved",
        "official",
        None,
    )
    with pytest.raises(Forbidden):
        create_venue(db, official_actor, draft(db, commune=HOANG_TUNG), now=T0)
    with pytest.raises(Forbidden):
        create_venue(db, actor_of(db, citizen(db)), draft(db, name="Nhà văn hoá"), now=T0)


def test_likely_duplicates_are_a_warning_the_person_can_confirm(db: Session) -> None:
    first = registered_venue(db, name="Quán Phở Hương", phone="0987 111 222")
    owner = actor_of(db, citizen(db))
    # Same name without accents, same commune.
    with pytest.raises(DuplicateSuspected) as warned:
        register_venue(db, owner, draft(db, name="quan  pho huong"), now=T0)
    assert warned.value.code == "venue.possible_duplicate"
    assert warned.value.details["duplicates"][0]["venue_id"] == first.id
    assert warned.value.details["duplicates"][0]["reason"] == "name"
    # Same contact phone under another name.
    with pytest.raises(DuplicateSuspected) as by_phone:
        register_venue(db, owner, draft(db, name="Tiệm bánh", phone="0987111222"), now=T0)
    assert by_phone.value.details["duplicates"][0]["reason"] == "phone"
    # Same name in another commune is a different place.
    register_venue(db, owner, draft(db, name="Quán Phở Hương", commune=HOANG_TUNG), now=T0)
    # Confirmed: registered anyway.
    again = register_venue(
        db, owner, draft(db, name="quan pho huong"), now=T0, confirm_duplicate=True
    )
    assert again.id != first.id


def test_reject_close_and_reopen_are_audited(db: Session) -> None:
    venue = registered_venue(db)
    commune = actor_of(db, official(db, Role.COMMUNE_OFFICIAL, SONG_HIEN))
    with pytest.raises(AppError) as no_reason:
        reject_venue(db, commune, venue, now=T0, reason="  ")
    assert no_reason.value.code == "venue.reason_required"
    reject_venue(db, commune, venue, now=T0, reason="Địa chỉ không đúng", sms=OutboxSender())
    assert venue.status == "rejected"
    told = db.scalars(select(SmsMessage).where(SmsMessage.purpose == "venue_decision")).one()
    assert told.body.endswith("Lý do: Địa chỉ không đúng") and told.phone == venue.contact_phone
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "venue.reject")).one()
    assert entry.details and entry.details["reason"] == "Địa chỉ không đúng"
    with pytest.raises(Conflict):
        close_venue(db, commune, venue, now=T0)

    approve_venue(db, commune, venue, now=T0)
    owner = db.get(User, venue.owner_user_id)
    assert owner is not None
    close_venue(db, actor_of(db, owner), venue, now=T0, reason="Tạm nghỉ")
    assert venue.status == "closed" and venue.closed_at == T0
    reopen_venue(db, actor_of(db, owner), venue, now=T0)
    assert venue.status == "approved" and venue.closed_at is None
    assert audit_actions(db, venue.id) == [
        "venue.register",
        "venue.reject",
        "venue.approve",
        "venue.close",
        "venue.reopen",
    ]


def test_the_owner_edits_the_venue_and_a_corrected_refusal_goes_back_for_review(
    db: Session,
) -> None:
    owner = citizen(db, phone="0912 000 222")
    venue = register_venue(db, actor_of(db, owner), draft(db, name="Quán Mây"), now=T0)
    commune = actor_of(db, official(db, Role.COMMUNE_OFFICIAL, SONG_HIEN))
    reject_venue(db, commune, venue, now=T0, reason="Địa chỉ thiếu số nhà")
    me = actor_of(db, owner)
    edit = VenueEdit(street_address="  Số 12,  tổ 3 ", contact_phone="0912 000 333")
    changes = edit_venue(db, me, venue, edit, now=T0)
    assert changes == {
        "street_address": ["Số 5, đường Vườn Cam", "Số 12, tổ 3"],
        "contact_phone": ["+84912000222", "+84912000333"],
    }
    assert venue.status == "pending"  # back to the commune
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "venue.edit")).one()
    assert entry.details is not None
    assert (entry.details["changes"], entry.details["resubmitted"]) == (changes, True)
    # A new name is searchable folded; the same values again change nothing and log nothing.
    edit_venue(db, me, venue, VenueEdit(name="Quán Mây Trắng", type_code="market"), now=T0)
    assert (venue.name_folded, venue.type_id) == (
        "quan may trang",
        db.scalars(select(VenueType.id).where(VenueType.code == "market")).one(),
    )
    assert edit_venue(db, me, venue, VenueEdit(name="Quán Mây Trắng"), now=T0) == {}
    assert audit_actions(db, venue.id).count("venue.edit") == 2
    # Bad values are refused in Vietnamese, naming the field, and nothing changes.
    for bad, code in ((VenueEdit(name="x"), "venue.name_invalid"),
                      (VenueEdit(street_address=" "), "venue.address_invalid"),
                      (VenueEdit(type_code="rocket"), "venue_type.unknown")):  # fmt: skip
        with pytest.raises(AppError) as err:
            edit_venue(db, me, venue, bad, now=T0)
        assert err.value.code == code
    assert venue.name == "Quán Mây Trắng"
    # Staff and officials elsewhere may not edit; the commune may (and its edit is no resubmit).
    staff = citizen(db)
    add_staff(db, me, venue, now=T0, phone=staff.phone or "", full_name="Nhân viên")
    for stranger in (
        actor_of(db, staff),
        actor_of(db, official(db, Role.DISTRICT_OFFICIAL, HOA_AN)),
    ):
        with pytest.raises(Forbidden):
            edit_venue(db, stranger, venue, VenueEdit(name="Quán khác"), now=T0)
    edit_venue(db, commune, venue, VenueEdit(contact_phone=""), now=T0)
    assert venue.contact_phone is None


def test_sub_locations_have_their_own_codes(db: Session) -> None:
    venue = registered_venue(db)
    owner = actor_of(db, db.get(User, venue.owner_user_id))  # type: ignore[arg-type]
    gate = add_location(db, owner, venue, now=T0, name="Cổng chính", kind="gate")
    floor = add_location(db, owner, venue, now=T0, name="Tầng 2", kind="floor")
    codes = {venue.short_code, gate.short_code, floor.short_code}
    assert len(codes) == 3
    assert all(parse_short_code(c) == c for c in codes)
    with pytest.raises(AppError):
        add_location(db, owner, venue, now=T0, name="Sân", kind="garden")
    remove_location(db, owner, venue, gate.id, now=T0)
    assert [loc.name for loc in locations_of(db, venue)] == ["Tầng 2"]
    stranger = actor_of(db, citizen(db))
    with pytest.raises(Forbidden):
        add_location(db, stranger, venue, now=T0, name="Phòng 1", kind="room")


def test_the_owner_adds_staff_by_phone_and_staff_act_only_there(db: Session) -> None:
    venue = registered_venue(db)
    other = registered_venue(db, name="Cửa hàng khác")
    owner = actor_of(db, db.get(User, venue.owner_user_id))  # type: ignore[arg-type]
    phone = new_phone()
    guard = add_staff(db, owner, venue, now=T0, phone=phone, full_name="Bảo vệ Nam")
    assert guard.full_name == "Bảo vệ Nam" and guard.phone == "+84" + phone[1:]
    roles = set(db.scalars(select(RoleGrant.role).where(RoleGrant.user_id == guard.id)))
    assert roles == {"citizen", "venue_staff"}
    assert {(m.role, m.user_id) for m in list_staff(db, owner.principal, venue)} == {
        ("venue_owner", venue.owner_user_id),
        ("venue_staff", guard.id),
    }

    staff = actor_of(db, guard)
    load_venue(db, staff.principal, venue.id)  # may read their venue
    with pytest.raises(Forbidden):
        load_venue(db, staff.principal, other.id)
    with pytest.raises(Forbidden):
        add_staff(db, staff, venue, now=T0, phone=new_phone())
    with pytest.raises(Forbidden):
        close_venue(db, staff, venue, now=T0)

    # Adding a known phone reuses the account.
    again = add_staff(db, owner, other_owner_venue := venue, now=T0, phone=phone)
    assert again.id == guard.id and other_owner_venue is venue
    remove_staff(db, owner, venue, guard.id, now=T0)
    with pytest.raises(Forbidden):
        load_venue(db, principal_for(db, guard), venue.id)


def test_officials_see_the_venues_of_their_own_area_only(db: Session) -> None:
    in_city = registered_venue(db, name="Nhà hàng Sông Hiến")
    in_hoa_an = registered_venue(db, name="Quán Hoàng Tung", commune=HOANG_TUNG)
    in_2025 = registered_venue(db, name="Chợ mới", scheme="2025", commune=("commune", "01654"))

    def seen(user: User, **flt: object) -> set[int]:
        rows, total = visible_venues(db, principal_for(db, user), VenueFilter(**flt))  # type: ignore[arg-type]
        assert total == len(rows)
        return {v.id for v in rows}

    city = official(db, Role.DISTRICT_OFFICIAL, TP_CAO_BANG)
    assert seen(city) == {in_city.id}
    assert seen(official(db, Role.COMMUNE_OFFICIAL, HOANG_TUNG)) == {in_hoa_an.id}
    # A 2021 province grant covers the 2021 tree only; the 2025 commune has a different code path.
    province = official(db, Role.PROVINCE_OFFICIAL, PROVINCE)
    assert seen(province) == {in_city.id, in_hoa_an.id}
    assert in_2025.id not in seen(province)
    # Filters: accent-insensitive search, status, type, short code.
    assert seen(province, search="hoang tung") == {in_hoa_an.id}
    assert seen(province, search=in_city.short_code.lower()) == {in_city.id}
    assert seen(province, status="approved") == set()
    assert seen(province, type_code="restaurant") == {in_city.id, in_hoa_an.id}
    assert seen(province, within=get_area(db, "2021", *HOA_AN)) == {in_hoa_an.id}
    # An owner sees their own venue only; a plain citizen sees none.
    owner = db.get(User, in_city.owner_user_id)
    assert owner is not None and seen(owner) == {in_city.id}


def test_types_are_seeded_once(db: Session) -> None:
    codes = list(db.scalars(select(VenueType.code)))
    assert len(codes) == len(set(codes))
