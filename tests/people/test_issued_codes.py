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
from phongdich.people.personal_qr import KEYS, named_in, named_many, token_digest
from tests.checkins.factories import citizen_with_person, qr_of
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
    people = [citizen_with_person(db, f"Người {i}")[1] for i in range(3)]
    tokens = [qr_of(db, p) for p in people]
    db.execute(update(PersonQrCode).where(PersonQrCode.person_id == people[2].id).values(
        token_digest=None))  # fmt: skip
    forged = _forge(tokens[0], p=people[1].id)
    out = named_many(db, [*tokens, forged, "abc.def", tokens[0]])
    assert [out[t] for t in tokens] == [(p.id, p.qr_serial) for p in people]
    assert isinstance(out[forged], AppError) and out[forged].code == "qr.signature_invalid"
    assert isinstance(out["abc.def"], AppError) and out["abc.def"].code == "qr.malformed"
    # Only the code without a digest and the forgery had their signatures checked.
    signed = {t.rsplit(".", 1)[0] for t in (tokens[2], forged)}
    assert set(signature_checks) == signed
