"""Short codes for typing by hand when a camera fails: 7 random characters and a check character.

The alphabet leaves out look-alikes (0/O, 1/I/L, U/V, 2/Z, 5/S, 8/B) so that a code read aloud
or copied from a faded poster is hard to get wrong; the check character (a weighted sum modulo
the alphabet size) catches any single wrong character and any swap of two neighbours.
"""

from __future__ import annotations

import secrets

from phongdich.core.errors import AppError

ALPHABET = "34679ACDEFGHJKMNPQRTWXY"  # 23 characters, prime, so every weight is invertible
BODY_LENGTH = 7
_INDEX = {ch: i for i, ch in enumerate(ALPHABET)}


def check_character(body: str) -> str:
    total = sum((i + 1) * _INDEX[ch] for i, ch in enumerate(body))
    return ALPHABET[total % len(ALPHABET)]


def new_short_code() -> str:
    """A fresh random code, e.g. "K7QW3MA" plus its check character."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    return body + check_character(body)


def clean(raw: str) -> str:
    """Upper-case and drop spaces and dashes, as people type them ("k7qw-3maX")."""
    return "".join(ch for ch in raw.upper() if ch not in " -")


def parse_short_code(raw: str) -> str:
    """The code if it is well formed with a correct check character; else a Vietnamese error."""
    code = clean(raw)
    if len(code) != BODY_LENGTH + 1 or any(ch not in _INDEX for ch in code):
        raise AppError(
            "short_code.malformed",
            "Mã gồm {length} ký tự (chữ và số, không có 0, O, 1, I, L). Vui lòng kiểm tra lại.",
            {"code": raw, "length": BODY_LENGTH + 1},
        )
    if check_character(code[:-1]) != code[-1]:
        raise AppError(
            "short_code.check_failed",
            "Mã không đúng: có thể bạn đã gõ nhầm một ký tự. Vui lòng kiểm tra lại.",
            {"code": raw},
        )
    return code


def format_short_code(code: str) -> str:
    """K7QW-3MAX: two groups of four, easier to read aloud."""
    return f"{code[:4]}-{code[4:]}"
