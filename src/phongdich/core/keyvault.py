"""Private signing keys at rest, sealed under a secret kept out of the database.

The keys that sign venue posters, personal QR codes and certificates live in `signing_keys`.
A copy of the database (a backup, a dump handed to a contractor) would let its holder forge
every printed code, so with `PHONGDICH_SIGNING_KEY_SECRET` set, each private key is stored
sealed with AES-256-GCM under that secret, bound to its purpose and kid (a sealed key copied to
another row does not open). The secret is set once per process by the entry points
(`protect_keys`); without it keys are stored as before, unsealed, and the server says so when
it starts. Keys stored unsealed before the secret was set still sign; `phongdich keys seal`
seals them.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MARK = b"pdk1"  # a sealed key: MARK, a 12-byte nonce, the 32-byte key encrypted, a 16-byte tag
SEALED_LENGTH = len(MARK) + 12 + 32 + 16


class KeyLocked(RuntimeError):
    """A sealed key with no secret, or the wrong one: an operator's error, not a user's."""


class _Seal:
    def __init__(self, secret: bytes) -> None:
        self._aead = AESGCM(secret)

    def seal(self, raw: bytes, label: str) -> bytes:
        nonce = os.urandom(12)
        return MARK + nonce + self._aead.encrypt(nonce, raw, label.encode())

    def open(self, blob: bytes, label: str) -> bytes:
        nonce = blob[len(MARK) : len(MARK) + 12]
        try:
            return self._aead.decrypt(nonce, blob[len(MARK) + 12 :], label.encode())
        except InvalidTag:
            raise KeyLocked(
                f"Khoá ký {label} không mở được bằng PHONGDICH_SIGNING_KEY_SECRET hiện tại "
                "(sai khoá bí mật, hoặc dữ liệu khoá đã bị sửa)."
            ) from None


_seal: _Seal | None = None


def new_secret() -> str:
    """A fresh secret for PHONGDICH_SIGNING_KEY_SECRET (32 random bytes, base64url)."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def protect_keys(secret: str | None) -> None:
    """Seal keys under `secret` from now on in this process (None or "": store them unsealed).
    Called by the entry points with what they read from their settings."""
    global _seal
    if not secret:
        _seal = None
        return
    try:
        raw = base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ValueError(
            "PHONGDICH_SIGNING_KEY_SECRET phải là 32 byte mã hoá base64url "
            "(tạo bằng lệnh: phongdich keys new-secret)."
        )
    _seal = _Seal(raw)


def protected() -> bool:
    return _seal is not None


def is_sealed(blob: bytes) -> bool:
    return len(blob) == SEALED_LENGTH and blob.startswith(MARK)


def seal(raw: bytes, label: str) -> bytes:
    """What to store for a private key: sealed when a secret is set, else the key itself."""
    return _seal.seal(raw, label) if _seal is not None else raw


def unseal(blob: bytes, label: str) -> bytes:
    """The private key from what is stored (a key stored unsealed is returned as it is)."""
    if not is_sealed(blob):
        return blob
    if _seal is None:
        raise KeyLocked(
            f"Khoá ký {label} được lưu mã hoá nhưng máy chủ chưa có "
            "PHONGDICH_SIGNING_KEY_SECRET để mở."
        )
    return _seal.open(blob, label)
