"""Compact signed tokens for printed QR codes: `header.payload.signature`, base64url, Ed25519.

The form follows JWS compact serialisation (RFC 7515) with one algorithm only, `EdDSA`, and a
header that names the key (`kid`, versioned per purpose: vq1, vq2 …). Keys live in the
`signing_keys` table: the newest unretired key of a purpose signs; every unretired key verifies,
so posters printed under an older key keep working after a rotation until that key is retired.

A token carries only ids, a short code and the issue time, never a secret: anyone may read it,
only the platform can have signed it (the NHS venue-QR lesson), and a photo of a poster reveals
nothing that is not printed on it already (the luca key-fob lesson).

The algorithm is fixed by the verifier, never taken from the token: a header saying `none`, `HS256`
or anything else is refused before any key is looked at.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from phongdich.core import keyvault
from phongdich.core.errors import AppError, NotFound
from phongdich.models import SigningKey

ALGORITHM = "EdDSA"
KID_PREFIX = {"venue_qr": "vq", "person_qr": "pq", "certificate": "ce"}
MAX_TOKEN_LENGTH = 600  # a printed code is ~180 characters; anything far longer is not ours


class InvalidToken(AppError):
    """A code the platform refuses; `code` says why (stable), `message` explains it to people."""

    status = 400


# Stable codes and plain-Vietnamese explanations, one per way a code can be wrong.
REASONS: dict[str, str] = {
    "qr.malformed": (
        "Mã QR không đọc được: nội dung bị thiếu hoặc hỏng (có thể do ảnh chụp mờ hoặc đường "
        "dẫn bị cắt). Hãy quét lại, hoặc gõ mã 8 ký tự in dưới mã QR."
    ),
    "qr.alg_not_allowed": (
        "Mã QR này không có chữ ký hợp lệ của hệ thống (kiểu ký không được chấp nhận). "
        "Đây không phải mã do hệ thống phát hành: đừng khai báo tại đây và hãy báo cho chủ "
        "địa điểm hoặc cán bộ xã."
    ),
    "qr.unknown_key": (
        "Mã QR được ký bằng một khoá mà hệ thống không biết: mã này không do hệ thống phát "
        "hành. Đừng khai báo tại đây và hãy báo cho chủ địa điểm hoặc cán bộ xã."
    ),
    "qr.key_retired": (
        "Mã QR này đã hết hiệu lực: khoá ký của nó đã bị thu hồi. Chủ địa điểm cần in lại "
        "mã QR mới. Bạn vẫn có thể gõ mã 8 ký tự in dưới mã QR."
    ),
    "qr.signature_invalid": (
        "Chữ ký của mã QR không khớp với nội dung: mã đã bị sửa hoặc bị làm giả. "
        "Đừng khai báo tại đây và hãy báo cho chủ địa điểm hoặc cán bộ xã."
    ),
}


def _refuse(code: str, **details: Any) -> InvalidToken:
    return InvalidToken(code, REASONS[code], details or None)


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    if not text or not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_B64URL = re.compile(r"[A-Za-z0-9_-]+")


def _compact_json(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode("utf-8")


def _next_kid(session: Session, purpose: str) -> str:
    prefix = KID_PREFIX.get(purpose, purpose[:4])
    n = session.scalar(
        select(func.count()).select_from(SigningKey).where(SigningKey.purpose == purpose)
    )
    return f"{prefix}{(n or 0) + 1}"


def create_key(
    session: Session, purpose: str, *, now: datetime, note: str | None = None
) -> SigningKey:
    """A new Ed25519 key for `purpose`; being the newest, it signs from now on (flush only)."""
    private = Ed25519PrivateKey.generate()
    kid = _next_kid(session, purpose)
    raw = private.private_bytes(ser.Encoding.Raw, ser.PrivateFormat.Raw, ser.NoEncryption())
    key = SigningKey(
        kid=kid,
        purpose=purpose,
        algorithm=ALGORITHM,
        public_key=private.public_key().public_bytes(ser.Encoding.Raw, ser.PublicFormat.Raw),
        private_key=keyvault.seal(raw, _label(purpose, kid)),  # see `core.keyvault`
        created_at=now,
        note=note,
    )
    session.add(key)
    session.flush()
    return key


def active_key(session: Session, purpose: str) -> SigningKey | None:
    """The key that signs new codes: the newest unretired key holding its private half."""
    return session.scalar(
        select(SigningKey)
        .where(
            SigningKey.purpose == purpose,
            SigningKey.retired_at.is_(None),
            SigningKey.private_key.is_not(None),
        )
        .order_by(SigningKey.id.desc())
        .limit(1)
    )


def ensure_key(session: Session, purpose: str, *, now: datetime) -> SigningKey:
    """The active key, created on first need."""
    return active_key(session, purpose) or create_key(session, purpose, now=now)


def rotate_key(session: Session, purpose: str, *, now: datetime) -> SigningKey:
    """Start signing with a new key; codes signed by older keys keep verifying until retired."""
    return create_key(session, purpose, now=now, note="rotation")


def retire_key(session: Session, kid: str, *, now: datetime) -> SigningKey:
    """Stop a key: codes it signed are refused from now on (e.g. after a leak)."""
    key = session.scalar(select(SigningKey).where(SigningKey.kid == kid))
    if key is None:
        raise NotFound("signing_key.unknown", "Không có khoá ký {kid}.", {"kid": kid})
    if key.retired_at is None:
        key.retired_at = now
        key.private_key = None  # a retired key never signs again; drop its secret half
        session.flush()
    return key


@dataclass
class Signer:
    """Signs many codes with one key loaded once (a batch of 1,000 posters)."""

    kid: str
    _private: Ed25519PrivateKey

    def sign(self, claims: dict[str, Any], *, now: datetime) -> str:
        header = b64url_encode(_compact_json({"alg": ALGORITHM, "kid": self.kid}))
        payload = b64url_encode(_compact_json({**claims, "iat": int(now.timestamp())}))
        signing_input = f"{header}.{payload}".encode("ascii")
        return f"{header}.{payload}.{b64url_encode(self._private.sign(signing_input))}"


def signer_for(session: Session, purpose: str, *, now: datetime) -> Signer:
    """A signer with the purpose's active key (created on first need)."""
    key = ensure_key(session, purpose, now=now)
    assert key.private_key is not None
    raw = keyvault.unseal(key.private_key, _label(purpose, key.kid))
    return Signer(key.kid, Ed25519PrivateKey.from_private_bytes(raw))


def _label(purpose: str, kid: str) -> str:
    return f"{purpose}:{kid}"


def seal_stored_keys(session: Session) -> int:
    """Seal the private keys stored unsealed (from before a secret was set); returns how many
    (flush only). Needs the secret set in this process."""
    if not keyvault.protected():
        raise keyvault.KeyLocked("Chưa đặt PHONGDICH_SIGNING_KEY_SECRET để niêm phong khoá ký.")
    sealed = 0
    for key in session.scalars(select(SigningKey).where(SigningKey.private_key.is_not(None))):
        assert key.private_key is not None
        if not keyvault.is_sealed(key.private_key):
            key.private_key = keyvault.seal(key.private_key, _label(key.purpose, key.kid))
            sealed += 1
    session.flush()
    return sealed


def sign(session: Session, purpose: str, claims: dict[str, Any], *, now: datetime) -> str:
    """Sign `claims` (plus `iat`, the issue time) with the purpose's active key."""
    return signer_for(session, purpose, now=now).sign(claims, now=now)


def _decode_segment(segment: str) -> dict[str, Any]:
    try:
        value = json.loads(b64url_decode(segment))
    except (ValueError, binascii.Error, UnicodeDecodeError) as err:
        raise _refuse("qr.malformed") from err
    if not isinstance(value, dict):
        raise _refuse("qr.malformed")
    return value


def verify(session: Session, purpose: str, token: str) -> dict[str, Any]:
    """The claims of a genuine, unretired code, or InvalidToken with a stable reason code.

    Checks in order: shape, algorithm (fixed here, never read from the token), key id (known,
    of this purpose, not retired), then the signature over the exact bytes received.
    """
    if not token or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
        raise _refuse("qr.malformed")
    header_b64, payload_b64, signature_b64 = token.split(".")
    header = _decode_segment(header_b64)
    claims = _decode_segment(payload_b64)  # shape only; nothing in it is trusted before the check
    alg = header.get("alg")
    if alg != ALGORITHM:
        raise _refuse("qr.alg_not_allowed", alg=str(alg)[:20])
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise _refuse("qr.unknown_key")
    key = session.scalar(
        select(SigningKey).where(SigningKey.kid == kid, SigningKey.purpose == purpose)
    )
    if key is None or key.algorithm != ALGORITHM:
        raise _refuse("qr.unknown_key", kid=kid[:20])
    if key.retired_at is not None:
        raise _refuse("qr.key_retired", kid=kid)
    try:
        signature = b64url_decode(signature_b64)
    except ValueError as err:
        raise _refuse("qr.signature_invalid", kid=kid) from err
    try:
        Ed25519PublicKey.from_public_bytes(key.public_key).verify(
            signature, f"{header_b64}.{payload_b64}".encode("ascii")
        )
    except InvalidSignature as err:
        raise _refuse("qr.signature_invalid", kid=kid) from err
    if not isinstance(claims.get("iat"), int):
        raise _refuse("qr.malformed")
    return claims
