"""People on a real database: own record, dependants, one person per ID, merges, personal QR."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from phongdich.auth.roles import Role
from phongdich.checkins.service import CITIZEN_SCAN, record_check_in
from phongdich.core import signing
from phongdich.core.errors import AppError, Conflict, Forbidden
from phongdich.models import AuditEntry, Person, Visit
from phongdich.people.personal_qr import (
    KEYS,
    PURPOSE,
    issue_qr,
    resolve_person_token,
    revoke_qr,
    token_for,
    token_from_text,
)
from phongdich.people.service import (
    PersonDraft,
    dependants_of,
    merge_people,
    update_person,
    walk_in,
)
from tests.checkins.factories import citizen_with_person, dependant, qr_of, venue
from tests.conftest import T0
from tests.factories import HOA_AN, SONG_HIEN, official
from tests.venues.factories import actor_of


def test_citizen_keeps_a_profile_and_flags_a_mismatched_cccd(db: Session) -> None:
    user, me = citizen_with_person(db, name="Nông Văn Minh")
    assert me.user_id == user.id and me.phone == user.phone and me.id_type == "none"
    update_person(
        db,
        actor_of(db, user),
        me,
        PersonDraft(full_name="Nông  Văn Minh", id_type="cccd", id_number="004090001234",
                    birth_year=1991, sex="male"),
        now=T0,
    )  # fmt: skip
    assert me.full_name == "Nông Văn Minh" and me.name_folded == "nong van minh"
    assert me.id_flags == ["cccd.birth_year_mismatch"]  # stored, not refused
    other_user, other = citizen_with_person(db)
    with pytest.raises(Conflict) as err:  # one person per ID number
        update_person(
            db,
            actor_of(db, other_user),
            other,
            PersonDraft(full_name="Ai Đó", id_type="cccd", id_number="004090001234"),
            now=T0,
        )
    assert err.value.code == "person.id_exists"
    with pytest.raises(Forbidden):  # and nobody edits someone else's record
        update_person(db, actor_of(db, other_user), me, PersonDraft(full_name="X Y"), now=T0)


def test_dependants_belong_to_their_guardian(db: Session) -> None:
    mum, _ = citizen_with_person(db)
    child = dependant(db, mum)
    assert [p.id for p in dependants_of(db, mum)] == [child.id]
    stranger, _ = citizen_with_person(db)
    with pytest.raises(Forbidden):
        token_for(db, actor_of(db, stranger), child, now=T0)
    assert token_for(db, actor_of(db, mum), child, now=T0)


def _forge(token: str, **claims: object) -> str:
    header, payload, signature = token.split(".")
    body = json.loads(signing.b64url_decode(payload))
    body.update(claims)
    edited = signing.b64url_encode(json.dumps(body, separators=(",", ":")).encode())
    return f"{header}.{edited}.{signature}"


def test_personal_qr_has_no_personal_data_and_resolves(db: Session) -> None:
    _user, me = citizen_with_person(db, name="Hoàng Thị Mai")
    token = qr_of(db, me)
    assert token == qr_of(db, me)  # shown twice, the same code
    claims = json.loads(signing.b64url_decode(token.split(".")[1]))
    assert set(claims) == {"p", "s", "iat"}  # no name, no ID number, no phone
    assert resolve_person_token(db, token).id == me.id
    assert token_from_text(f"https://x.example/p/{token}") == token


def test_forged_edited_and_revoked_personal_qr_are_refused(db: Session) -> None:
    user, me = citizen_with_person(db)
    _, other = citizen_with_person(db)
    token = qr_of(db, me)
    qr_of(db, other)
    header, payload, _sig = token.split(".")
    cases = {
        "qr.signature_invalid": _forge(token, p=other.id),  # edited: someone else's id
        "qr.malformed": "abc.def",
    }
    # Forged: the right shape and kid, signed with a key that is not the platform's.
    fake = Ed25519PrivateKey.generate()
    cases["qr.signature_invalid "] = f"{header}.{payload}." + signing.b64url_encode(
        fake.sign(f"{header}.{payload}".encode())
    )
    none_header = signing.b64url_encode(b'{"alg":"none","kid":"pq1"}')
    cases["qr.alg_not_allowed"] = f"{none_header}.{payload}."
    unknown = signing.b64url_encode(b'{"alg":"EdDSA","kid":"pq999"}')
    cases["qr.unknown_key"] = f"{unknown}.{payload}.{_sig}"
    for code, bad in cases.items():
        with pytest.raises(AppError) as err:
            resolve_person_token(db, bad)
        assert err.value.code == code.strip(), bad
    # Re-issuing revokes the old code at once.
    new = issue_qr(db, actor_of(db, user), me, now=T0)
    assert new != token and resolve_person_token(db, new).id == me.id
    with pytest.raises(AppError) as err:
        resolve_person_token(db, token)
    assert err.value.code == "qr.person_revoked"
    revoke_qr(db, actor_of(db, user), me, now=T0)
    with pytest.raises(AppError):
        resolve_person_token(db, new)
    actions = set(db.scalars(select(AuditEntry.action).where(AuditEntry.object_id == str(me.id))))
    assert {"person.qr.issue", "person.qr.revoke"} <= actions


def test_a_retired_key_is_refused(db: Session) -> None:
    _, me = citizen_with_person(db)
    token = qr_of(db, me)
    kid = json.loads(signing.b64url_decode(token.split(".")[0]))["kid"]
    assert resolve_person_token(db, token).id == me.id
    signing.retire_key(db, kid, now=T0)
    KEYS.clear()  # another process would notice within KEY_CACHE_SECONDS
    with pytest.raises(AppError) as err:
        resolve_person_token(db, token)
    assert err.value.code == "qr.key_retired"
    assert signing.active_key(db, PURPOSE) is None


def test_walk_in_is_found_again_by_id_or_phone_and_name(db: Session) -> None:
    staff = actor_of(db, official(db, Role.COMMUNE_OFFICIAL, SONG_HIEN))
    a, created = walk_in(
        db, staff, now=T0, full_name="Lý Văn Già", id_type="cmnd", id_number="085123456"
    )
    assert created
    again, created = walk_in(db, staff, now=T0, full_name=None, id_type="cmnd",
                             id_number="085 123 456")  # fmt: skip
    assert again.id == a.id and not created
    b, created = walk_in(db, staff, now=T0, full_name="Bà Tư", phone="0987 654 321")
    again, _ = walk_in(db, staff, now=T0, full_name="ba tu", phone="+84987654321")
    assert again.id == b.id
    with pytest.raises(AppError) as err:
        walk_in(db, staff, now=T0, full_name=None, id_type="cccd", id_number="004090009999")
    assert err.value.code == "person.name_required"


def test_an_official_merges_duplicates_keeping_every_check_in(db: Session) -> None:
    user, me = citizen_with_person(db, name="Đàm Văn Tùng")
    staff = actor_of(db, official(db, Role.COMMUNE_OFFICIAL, SONG_HIEN))
    dup, _ = walk_in(
        db, staff, now=T0, full_name="Đàm Văn Tùng", id_type="cccd", id_number="004090004321"
    )
    pho = venue(db)
    record_check_in(db, actor_of(db, user), person=me, venue=pho, now=T0, source=CITIZEN_SCAN)
    db.add(
        Visit(
            person_id=dup.id, venue_id=pho.id, source="khai_ho", checked_in_at=T0,
            last_seen_at=T0, default_stay_minutes=60, received_at=T0,
        )
    )  # fmt: skip
    db.flush()
    outsider = actor_of(db, official(db, Role.DISTRICT_OFFICIAL, HOA_AN))
    with pytest.raises(Forbidden):  # the duplicate has no commune: only wide scopes may merge
        merge_people(db, outsider, me, dup, now=T0)
    province = actor_of(db, official(db, Role.PROVINCE_OFFICIAL, ("province", "04")))
    kept = merge_people(db, province, me, dup, now=T0)
    assert kept.id == me.id and kept.id_number == "004090004321" and kept.user_id == user.id
    assert dup.merged_into_id == me.id and dup.id_number is None
    visits = db.scalar(select(func.count()).select_from(Visit).where(Visit.person_id == me.id))
    assert visits == 2
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "person.merge"))
    assert entry is not None and entry.details["visits_moved"] == 1
    assert db.get(Person, dup.id).merged_into_id == me.id  # type: ignore[union-attr]
