"""A personal QR equal to the code as issued is found by its recorded digest, without a
signature check; anything else is judged by its signature, with the same refusals."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from phongdich.core import signing
from phongdich.core.errors import AppError
from phongdich.models import PersonQrCode
from phongdich.people import personal_qr
from phongdich.people.personal_qr import (
    KEYS,
    current_many,
    issue_qr,
    named_in,
    named_with_holder,
    token_digest,
)
from tests.checkins.factories import actor_of, citizen_with_person, qr_of
from tests.conftest import T0
from tests.people.test_service import _forge


@pytest.fixture
def signature_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The signed parts (header.payload) of the tokens whose Ed25519 signature was checked
    (the real check still runs)."""
    calls: list[str] = []
    real = personal_qr._check

    def counted(public: object, signature: bytes, message: bytes) -> bool:
        calls.append(message.decode())
        return real(public, signature, message)  # type: ignore[arg-type]

    monkeypatch.setattr(personal_qr, "_check", counted)
    KEYS.clear()  # nothing remembered from other tests
    return calls


def test_the_issued_code_needs_no_signature_check(db: Session, signature_checks: list[str]) -> None:
    _, me = citizen_with_person(db)
    token = qr_of(db, me)
    recorded = db.query(PersonQrCode.token_digest).filter_by(person_id=me.id).scalar()
    assert recorded == token_digest(token)
    assert named_in(db, token) == (me.id, me.qr_serial)
    assert signature_checks == []


def test_an_edit_that_keeps_id_and_serial_is_judged_by_its_signature(
    db: Session, signature_checks: list[str]
) -> None:
    _, me = citizen_with_person(db)
    token = qr_of(db, me)
    edited = _forge(token, iat=1)  # same person and serial, the original signature
    with pytest.raises(AppError) as err:
        named_in(db, edited)
    assert err.value.code == "qr.signature_invalid"
    assert len(signature_checks) == 1


def test_a_code_issued_before_digests_were_kept_is_checked_by_signature(
    db: Session, signature_checks: list[str]
) -> None:
    _, me = citizen_with_person(db)
    token = qr_of(db, me)
    db.execute(update(PersonQrCode).values(token_digest=None))
    assert named_in(db, token) == (me.id, me.qr_serial)
    assert len(signature_checks) == 1


def test_a_retired_key_is_refused_even_for_the_issued_code(db: Session) -> None:
    _, me = citizen_with_person(db)
    token = qr_of(db, me)
    kid = json.loads(signing.b64url_decode(token.split(".")[0]))["kid"]
    signing.retire_key(db, kid, now=T0)
    KEYS.clear()
    with pytest.raises(AppError) as err:
        named_in(db, token)
    assert err.value.code == "qr.key_retired"


def test_a_batch_gets_the_answers_of_one_by_one(db: Session, signature_checks: list[str]) -> None:
    citizens = [citizen_with_person(db, f"Người {i}") for i in range(5)]
    people = [p for _, p in citizens]
    tokens = [qr_of(db, p) for p in people]
    without_digest = [people[2].id, people[4].id]
    db.execute(update(PersonQrCode).where(PersonQrCode.person_id.in_(without_digest)).values(
        token_digest=None))  # fmt: skip
    # People 3 and 4 get new codes: their old ones no longer name them (a replaced code's record
    # is revoked, so it is judged by its signature: genuine, but no longer current).
    for user, p in citizens[3:]:
        issue_qr(db, actor_of(db, user), p, now=T0)
    forged = _forge(tokens[0], p=people[1].id)
    out = current_many(db, [*tokens, forged, "abc.def", tokens[0]])
    assert [out[t] for t in tokens[:3]] == [p.id for p in people[:3]]
    for old in tokens[3:]:
        refusal = out[old]
        assert isinstance(refusal, AppError) and refusal.code == "qr.person_revoked"
    assert isinstance(out[forged], AppError) and out[forged].code == "qr.signature_invalid"
    assert isinstance(out["abc.def"], AppError) and out["abc.def"].code == "qr.malformed"
    # Only the replaced codes, the code without a digest and the forgery had their signatures
    # checked.
    signed = {t.rsplit(".", 1)[0] for t in (tokens[2], *tokens[3:], forged)}
    assert set(signature_checks) == signed


def test_the_desk_gets_the_holder_of_an_issued_code_in_the_same_read(
    db: Session, signature_checks: list[str]
) -> None:
    citizens = [citizen_with_person(db, f"Người {i}") for i in range(2)]
    (_, first), (_, second) = citizens
    tokens = [qr_of(db, p) for _, p in citizens]
    db.execute(update(PersonQrCode).where(PersonQrCode.person_id == second.id).values(
        token_digest=None))  # fmt: skip
    conn = db.connection()
    assert named_with_holder(conn, tokens[0]) == (
        first.id,
        first.qr_serial,
        (first.full_name, first.birth_year, first.qr_serial),
    )
    assert signature_checks == []
    # A code without a recorded digest is judged by its signature; its holder is for the
    # caller to read.
    assert named_with_holder(conn, tokens[1]) == (second.id, second.qr_serial, None)
    assert signature_checks == [tokens[1].rsplit(".", 1)[0]]
