"""Translation catalogues. Vietnamese is the source language; English comes from en.po.

Catalogues are read from the .po files at start-up and compiled in memory, so there is no
build step and no compiled .mo file to forget.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LOCALES = ("vi", "en")
DEFAULT_LOCALE = "vi"


@cache
def translations(locale: str) -> gettext.NullTranslations:
    """The compiled catalogue for a locale; Vietnamese needs none (it is the source)."""
    po_path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if locale == DEFAULT_LOCALE or not po_path.exists():
        return gettext.NullTranslations()
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def N_(message: str) -> str:
    """Mark a constant for extraction into the catalogue; it is translated where shown."""
    return message


def gettext_for(locale: str) -> Callable[[str], str]:
    """`_` for one locale; unknown locales fall back to Vietnamese."""
    return translations(locale if locale in LOCALES else DEFAULT_LOCALE).gettext


def pick_locale(requested: str | None) -> str:
    """An explicit choice (cookie or ?lang=) wins; otherwise Vietnamese, the first language,
    whatever the browser's Accept-Language says (many phones here are set to English)."""
    if requested in LOCALES:
        return requested
    return DEFAULT_LOCALE
