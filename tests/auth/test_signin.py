"""Phone codes and passwords on a real database: expiry, reuse, lock-outs, rate limits."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from phongdich.auth.roles import Role
from phongdich.auth.signin import request_phone_code, sign_in_with_password, verify_phone_code
from phongdich.core.errors import AppError, RateLimited
from phongdich.messaging.sms import OutboxSender
from phongdich.models import RoleGrant, SmsMessage, User
from tests.conftest import T0
from tests.factories import PASSWORD, TP_CAO_BANG, official

PHONE = "0912 345 678"


def last_code(db: Session) -> str:
    body = db.scalars(select(SmsMessage.body).order_by(SmsMessage.id.desc())).first()
    assert body is not None
    match = re.search(r"\b(\d{6})\b", body)
    assert match, body
    return match.group(1)


def test_code_signs_in_a_new_citizen_once(db: Session, sms: OutboxSender) -> None:
    phone = request_phone_code(db, sms, PHONE, ip="1.2.3.4", now=T0)
    assert phone == "+84912345678"
    code = last_code(db)
    outcome = verify_phone_code(db, PHONE, code, ip="1.2.3.4", now=T0 + timedelta(seconds=30))
    assert outcome.error is None and outcome.created
    user = outcome.raise_error()
    assert user.phone == "+84912345678"
    roles = db.scalars(select(RoleGrant.role).where(RoleGrant.user_id == user.id)).all()
    assert roles == [Role.CITIZEN.value]
    # The same code a second time is refused: codes are single-use.
    again = verify_phone_code(db, PHONE, code, ip="1.2.3.4", now=T0 + timedelta(seconds=40))
    assert again.error is not None and again.error.code == "auth.code_invalid"


def test_expired_code_fails(db: Session, sms: OutboxSender) -> None:
    request_phone_code(db, sms, PHONE, ip=None, now=T0, ttl_seconds=300)
    code = last_code(db)
    outcome = verify_phone_code(db, PHONE, code, ip=None, now=T0 + timedelta(seconds=301))
    assert outcome.user is None
    assert outcome.error is not None and outcome.error.code == "auth.code_expired"
    assert "hết hạn" in outcome.error.message


def test_a_new_code_replaces_the_old_one(db: Session, sms: OutboxSender) -> None:
    request_phone_code(db, sms, PHONE, ip=None, now=T0)
    first = last_code(db)
    request_phone_code(db, sms, PHONE, ip=None, now=T0 + timedelta(seconds=10))
    second = last_code(db)
    if first != second:
        assert verify_phone_code(db, PHONE, first, ip=None, now=T0 + timedelta(seconds=20)).error
    assert verify_phone_code(db, PHONE, second, ip=None, now=T0 + timedelta(seconds=20)).user


def test_repeated_wrong_codes_lock_the_phone_for_a_while(db: Session, sms: OutboxSender) -> None:
    request_phone_code(db, sms, PHONE, ip=None, now=T0)
    good = last_code(db)
    wrong = "000000" if good != "000000" else "111111"
    for i in range(5):
        outcome = verify_phone_code(db, PHONE, wrong, ip=None, now=T0 + timedelta(seconds=i))
        assert outcome.error is not None and outcome.error.code == "auth.code_invalid"
    # Now even the right code is refused, and so is a new code request.
    locked = verify_phone_code(db, PHONE, good, ip=None, now=T0 + timedelta(minutes=1))
    assert locked.error is not None and locked.error.code == "auth.locked"
    assert locked.error.status == 429
    assert "thử lại sau" in locked.error.message
    with pytest.raises(RateLimited):
        request_phone_code(db, sms, PHONE, ip=None, now=T0 + timedelta(minutes=2))
    # Another phone is not affected.
    request_phone_code(db, sms, "0987654321", ip=None, now=T0 + timedelta(minutes=2))
    # After the window the phone may try again.
    later = T0 + timedelta(minutes=16)
    request_phone_code(db, sms, PHONE, ip=None, now=later)
    assert verify_phone_code(db, PHONE, last_code(db), ip=None, now=later).user is not None


def test_code_requests_are_rate_limited_per_phone_and_per_ip(
    db: Session, sms: OutboxSender
) -> None:
    for i in range(3):
        request_phone_code(db, sms, PHONE, ip="9.9.9.9", now=T0 + timedelta(seconds=i))
    with pytest.raises(RateLimited) as info:
        request_phone_code(db, sms, PHONE, ip="9.9.9.9", now=T0 + timedelta(seconds=5))
    assert info.value.code == "auth.too_many_codes"
    sent = db.scalar(select(func.count()).select_from(SmsMessage))
    assert sent == 3
    # Many phones from one address hit the per-IP limit.
    phones = [f"09120000{n:02d}" for n in range(30)]
    with pytest.raises(RateLimited):
        for i, phone in enumerate(phones):
            request_phone_code(db, sms, phone, ip="8.8.8.8", now=T0 + timedelta(seconds=i))


@pytest.mark.parametrize("raw", ["12345", "0212345678", "+1 555 0100", "abc", ""])
def test_malformed_phone_is_refused_and_nothing_is_sent(
    db: Session, sms: OutboxSender, raw: str
) -> None:
    with pytest.raises(AppError) as info:
        request_phone_code(db, sms, raw, ip=None, now=T0)
    assert info.value.code == "phone.invalid"
    assert db.scalar(select(func.count()).select_from(SmsMessage)) == 0


def test_password_sign_in_and_lockout(db: Session) -> None:
    user = official(db, Role.DISTRICT_OFFICIAL, TP_CAO_BANG)
    assert user.username
    ok = sign_in_with_password(db, user.username, PASSWORD, ip="1.1.1.1", now=T0)
    assert ok.user is not None and ok.user.id == user.id
    for i in range(5):
        bad = sign_in_with_password(
            db, user.username, "sai-mat-khau", ip="1.1.1.1", now=T0 + timedelta(seconds=i)
        )
        assert bad.error is not None and bad.error.code == "auth.invalid_credentials"
    locked = sign_in_with_password(
        db, user.username, PASSWORD, ip="1.1.1.1", now=T0 + timedelta(minutes=1)
    )
    assert locked.error is not None and locked.error.code == "auth.locked"
    unknown = sign_in_with_password(db, "khong-co-ai", PASSWORD, ip="2.2.2.2", now=T0)
    assert unknown.error is not None and unknown.error.code == "auth.invalid_credentials"
    # Passwords are stored as argon2id hashes, never in clear.
    stored = db.scalar(select(User.password_hash).where(User.id == user.id))
    assert stored and stored.startswith("$argon2id$") and PASSWORD not in stored
