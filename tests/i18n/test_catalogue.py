"""Every piece of user text in the pages has an English translation in the catalogue."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path
from string import Formatter

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "src/phongdich/locale/en/LC_MESSAGES/messages.po"
METHODS = [
    ("src/phongdich/**.py", "python"),
    ("src/phongdich/web/templates/**.html", "jinja2"),
]
# The error messages too: the web layer renders them with `_(message)`. The number is the
# (1-based) position of the Vietnamese message: `AppError(code, message, ...)` and its subclasses,
# and the helpers that take `(code, message)`. `Forbidden`/`Unauthenticated` are only ever raised
# with their default message (and their first argument can be `details=`), so they are left out.
KEYWORDS = {
    "_": None,
    "N_": None,
    "AppError": (2,),
    "NotFound": (2,),
    "Conflict": (2,),
    "RateLimited": (2,),
    "InvalidToken": (2,),
    "_bad": (2,),  # people/ids.py
    "_file_error": (2,),  # venues/imports.py
}


@cache
def whole_literals(filename: str) -> frozenset[str]:
    """Every complete string literal in a Python file (adjacent literals joined, as Python does),
    but not the literal parts of f-strings."""
    tree = ast.parse((ROOT / filename).read_text(encoding="utf-8"))
    parts = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    return frozenset(
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in parts
    )


def source_messages() -> set[str]:
    found: set[str] = set()
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        ROOT, method_map=METHODS, keywords=KEYWORDS
    ):
        if not isinstance(message, str) or not message:
            continue
        # Babel glues together the pieces of a computed message (f-string + literal, `a if c
        # else b`, `"…" + ", ".join(…)`); such a message is never looked up as written, so skip.
        if filename.endswith(".py") and message not in whole_literals(filename):
            continue
        found.add(message)
    return found


def test_every_message_has_an_english_translation() -> None:
    with PO.open("rb") as fh:
        catalog = read_po(fh)
    translated = {m.id: m.string for m in catalog if m.id}
    messages = source_messages()
    assert len(messages) > 50  # the extractor really found the templates
    missing = sorted(m for m in messages if not translated.get(m))
    assert not missing, "add these to en/LC_MESSAGES/messages.po: " + "; ".join(missing)


def test_translations_keep_the_values_a_message_names() -> None:
    """An error message naming values (`{max}`) is filled in after translation
    (`core.errors.AppError.text`): its English must name the same values, or filling it fails."""
    with PO.open("rb") as fh:
        catalog = read_po(fh)
    named = [m for m in catalog if m.id and m.string and "{" in m.id]
    assert len(named) > 10  # the templates are in the catalogue
    for m in named:
        assert placeholders(m.string) == placeholders(m.id), m.id


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name}
