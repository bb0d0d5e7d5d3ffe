"""Vietnamese mobile phone numbers, stored in E.164 form (+84…)."""

from __future__ import annotations

import re

from phongdich.core.errors import AppError

# Mobile prefixes after the 2018 renumbering: 03x, 05x, 07x, 08x, 09x, then 8 more digits.
_MOBILE = re.compile(r"^(3|5|7|8|9)\d{8}$")


def normalize_phone(raw: str) -> str:
    """Return +84XXXXXXXXX for any common way of writing a Vietnamese mobile number."""
    digits = re.sub(r"[\s.\-()]", "", raw or "")
    if digits.startswith("+84"):
        national = digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        national = digits[2:]
    elif digits.startswith("0"):
        national = digits[1:]
    else:
        national = digits
    if not _MOBILE.match(national):
        raise AppError(
            "phone.invalid",
            "Số điện thoại không hợp lệ. Hãy nhập số di động Việt Nam, ví dụ 0912 345 678.",
            {"phone": raw},
        )
    return "+84" + national


def display_phone(e164: str) -> str:
    """0912 345 678, the way people write it."""
    national = "0" + e164[3:] if e164.startswith("+84") else e164
    return f"{national[:4]} {national[4:7]} {national[7:]}"
