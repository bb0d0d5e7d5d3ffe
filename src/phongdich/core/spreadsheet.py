"""Excel exports that cannot run anything: every text cell is formula-escaped.

A venue named `=cmd|' /C calc'!A0` must open as text, not as a formula (luca's health-office
exports allowed exactly this). Text starting with = + - @ tab or carriage return gets a leading
single quote, the OWASP advice for CSV and spreadsheet injection.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_text(value: str) -> str:
    """The text as it must be stored: prefixed with ' when a spreadsheet would run it."""
    return "'" + value if value.startswith(FORMULA_START) else value


def cell_value(value: Any) -> Any:
    """A value ready for a cell: text escaped, aware datetimes made naive (Excel has no zone)."""
    if isinstance(value, str):
        return escape_text(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    if value is None or isinstance(value, int | float | date):
        return value
    return escape_text(str(value))


def add_sheet(
    workbook: Workbook,
    title: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    widths: Sequence[int] | None = None,
) -> Worksheet:
    """A sheet with a bold, frozen header row and escaped cells."""
    sheet = workbook.create_sheet(escape_text(title)[:31])
    sheet.append([cell_value(h) for h in header])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for row in rows:
        sheet.append([cell_value(v) for v in row])
    for i, width in enumerate(widths or [], start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    return sheet


def new_workbook() -> Workbook:
    workbook = Workbook()
    workbook.remove(workbook.active)
    return workbook


def to_bytes(workbook: Workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
