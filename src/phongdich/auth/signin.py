"""Signing in: officials by password, citizens and venue owners by a one-time phone code.

Failures must be remembered even though the sign-in fails, so these functions do not raise on a
wrong password or code: they return an outcome, the boundary commits (keeping the failure
count), and only then raises the outcome's error.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from phongdich.audit.service import Actor, record
from phongdich.auth import ratelimit as rl
from phongdich.auth.passwords import hash_password, needs_rehash, verify_password
from phongdich.auth.policy import Principal
from phongdich.auth.roles import Role
from phongdich.core.errors import AppError, RateLimited
from phongdich.core.phone import normalize_phone
from phongdich.messaging.sms import SmsSender
from phongdich.models import PhoneCode, RoleGrant, User


@dataclass
class SignInOutcome:
    user: User | None = None
    error: AppError | None = None
    created: bool = False

    def raise_error(self) -> User:
        if self.error is not None or self.user is None:
            raise self.error or AppError("auth.failed", "Đăng nhập không thành công.")
        return self.user


def _locked(seconds: int) -> RateLimited:
    minutes = max(1, (seconds + 59) // 60)
    return RateLimited(
        "auth.locked",
        "Bạn đã thử sai quá nhiều lần. Vui lòng thử lại sau {minutes} phút.",
        {"retry_after_seconds": seconds, "minutes": minutes},
    )


def sign_in_with_password(
    session: Session, username: str, password: str, *, ip: str | None, now: datetime
) -> SignInOutcome:
    """Check a username and password; repeated failures lock the username and the IP."""
    username = (username or "").strip().lower()
    for limit, key in (
        (rl.PASSWORD_FAILURES_PER_USER, username),
        (rl.PASSWORD_FAILURES_PER_IP, ip),
    ):
        if key and rl.exceeded(session, limit, key, now):
            return SignInOutcome(error=_locked(rl.retry_after(session, limit, key, now)))
    user = session.scalar(select(User).where(User.username == username)) if username else None
    ok = verify_password(user.password_hash if user else None, password or "")
    if not ok or user is None or not user.is_active:
        rl.hit(session, rl.PASSWORD_FAILURES_PER_USER, username or None, now)
        rl.hit(session, rl.PASSWORD_FAILURES_PER_IP, ip, now)
        return SignInOutcome(
            error=AppError(
                "auth.invalid_credentials", "Tên đăng nhập hoặc mật khẩu không đúng.", status=401
            )
        )
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    rl.clear(session, rl.PASSWORD_FAILURES_PER_USER, username)
    user.last_login_at = now
    record(
        session,
        Actor(_self_principal(user), ip),
        "auth.sign_in",
        now=now,
        object_type="user",
        object_id=user.id,
        details={"method": "password"},
    )
    return SignInOutcome(user=user)


def _self_principal(user: User) -> Principal:
    return Principal(label=user.full_name, user_id=user.id)


def _code_hash(phone: str, code: str) -> str:
    # The phone is mixed in so that one leaked hash says nothing about another phone's code.
    return hashlib.sha256(f"{phone}:{code}".encode()).hexdigest()


def request_phone_code(
    session: Session,
    sender: SmsSender,
    raw_phone: str,
    *,
    ip: str | None,
    now: datetime,
    ttl_seconds: int = 300,
    length: int = 6,
) -> str:
    """Send a sign-in code by SMS. Returns the normalized phone; refuses when rate-limited.

    The same answer is given whether or not an account exists for the phone, so the form cannot
    be used to learn who is registered.
    """
    phone = normalize_phone(raw_phone)
    for limit in (rl.CODE_FAILURES_PER_PHONE,):
        if rl.exceeded(session, limit, phone, now):
            raise _locked(rl.retry_after(session, limit, phone, now))
    for limit, key in ((rl.CODE_REQUESTS_PER_PHONE, phone), (rl.CODE_REQUESTS_PER_IP, ip)):
        if key and rl.exceeded(session, limit, key, now):
            seconds = rl.retry_after(session, limit, key, now)
            raise RateLimited(
                "auth.too_many_codes",
                "Bạn đã yêu cầu quá nhiều mã. Vui lòng thử lại sau {minutes} phút.",
                {"retry_after_seconds": seconds, "minutes": max(1, seconds // 60)},
            )
    rl.hit(session, rl.CODE_REQUESTS_PER_PHONE, phone, now)
    rl.hit(session, rl.CODE_REQUESTS_PER_IP, ip, now)
    # A new code replaces any earlier one still pending for this phone.
    session.execute(
        update(PhoneCode)
        .where(PhoneCode.phone == phone, PhoneCode.consumed_at.is_(None))
        .values(consumed_at=now)
    )
    code = "".join(secrets.choice("0123456789") for _ in range(length))
    session.add(
        PhoneCode(
            phone=phone,
            code_hash=_code_hash(phone, code),
            created_at=now,
            expires_at=now + timedelta(seconds=ttl_seconds),
            attempts=0,
        )
    )
    minutes = max(1, ttl_seconds // 60)
    sender.queue(
        session,
        phone,
        f"Ma dang nhap phongdich cua ban la {code}. Ma co hieu luc {minutes} phut. "
        "Khong dua ma nay cho bat ky ai.",
        "sign_in_code",
        now,
    )
    return phone


def verify_phone_code(
    session: Session, raw_phone: str, code: str, *, ip: str | None, now: datetime
) -> SignInOutcome:
    """Check a code. A wrong, expired or reused code counts as a failure; five lock the phone.

    A phone with no account gets a citizen account on its first correct code.
    """
    phone = normalize_phone(raw_phone)
    for limit, key in ((rl.CODE_FAILURES_PER_PHONE, phone), (rl.CODE_FAILURES_PER_IP, ip)):
        if key and rl.exceeded(session, limit, key, now):
            return SignInOutcome(error=_locked(rl.retry_after(session, limit, key, now)))
    pending = session.scalar(
        select(PhoneCode)
        .where(PhoneCode.phone == phone, PhoneCode.consumed_at.is_(None))
        .order_by(PhoneCode.id.desc())
    )
    code = (code or "").strip()
    valid = (
        pending is not None
        and pending.expires_at > now
        and hmac.compare_digest(pending.code_hash, _code_hash(phone, code))
    )
    if not valid:
        rl.hit(session, rl.CODE_FAILURES_PER_PHONE, phone, now)
        rl.hit(session, rl.CODE_FAILURES_PER_IP, ip, now)
        if pending is not None:
            pending.attempts += 1
        expired = pending is not None and pending.expires_at <= now
        return SignInOutcome(
            error=AppError(
                "auth.code_expired" if expired else "auth.code_invalid",
                "Mã đã hết hạn. Vui lòng yêu cầu mã mới."
                if expired
                else "Mã không đúng hoặc đã được sử dụng.",
                status=401,
            )
        )
    assert pending is not None
    pending.consumed_at = now
    rl.clear(session, rl.CODE_FAILURES_PER_PHONE, phone)
    user = session.scalar(select(User).where(User.phone == phone))
    created = False
    if user is None:
        user = User(full_name="Người dùng " + phone[-4:], phone=phone, created_at=now)
        session.add(user)
        session.flush()
        session.add(RoleGrant(user_id=user.id, role=Role.CITIZEN.value, created_at=now))
        created = True
    if not user.is_active:
        return SignInOutcome(
            error=AppError("auth.account_disabled", "Tài khoản này đã bị khóa.", status=403)
        )
    user.last_login_at = now
    record(
        session,
        Actor(_self_principal(user), ip),
        "auth.sign_in",
        now=now,
        object_type="user",
        object_id=user.id,
        details={"method": "phone_code", "new_account": created},
    )
    return SignInOutcome(user=user, created=created)


def purge_expired_codes(session: Session, now: datetime) -> int:
    from sqlalchemy import delete

    result = session.execute(
        delete(PhoneCode).where(PhoneCode.expires_at < now - timedelta(days=1))
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
