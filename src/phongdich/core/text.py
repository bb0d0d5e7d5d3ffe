"""Vietnamese text helpers: folding diacritics for accent-insensitive search."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Lower-case, strip diacritics and đ, collapse spaces: "Hòa  An" gives "hoa an"."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    return " ".join(stripped.lower().split())


def normalize(text: str) -> str:
    """NFC-normalize and trim, so that the same name typed on two keyboards compares equal."""
    return " ".join(unicodedata.normalize("NFC", text).split())
