"""Every piece of user text in the pages has an English translation in the catalogue."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "src/phongdich/locale/en/LC_MESSAGES/messages.po"
METHODS = [
    ("src/phongdich/**.py", "python"),
    ("src/phongdich/web/templates/**.html", "jinja2"),
]


def source_messages() -> set[str]:
    found: set[str] = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        ROOT, method_map=METHODS, keywords={"_": None, "N_": None}
    ):
        if isinstance(message, str) and message:
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
