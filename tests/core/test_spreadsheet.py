"""Exported cells never run as formulas, whatever people typed into a name or an address."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from phongdich.core.spreadsheet import add_sheet, cell_value, escape_text, new_workbook, to_bytes

DANGEROUS = ["=1+1", "+84912", "-2+3", "@SUM(A1)", "\t=cmd", "\r=cmd", "=cmd|' /C calc'!A0"]


@pytest.mark.parametrize("value", DANGEROUS)
def test_formula_like_text_is_prefixed(value: str) -> None:
    assert escape_text(value) == "'" + value


@pytest.mark.parametrize("value", ["Chợ Xanh", "0912 345 678", "", "a=b", "Số 1 - Kim Đồng"])
def test_ordinary_text_is_unchanged(value: str) -> None:
    assert escape_text(value) == value


def test_workbook_round_trip_keeps_text_as_text() -> None:
    wb = new_workbook()
    moment = datetime(2021, 11, 15, 2, 0, tzinfo=UTC)
    add_sheet(wb, "=Trang", ["Tên", "Số", "Lúc"], [[v, 1, moment] for v in DANGEROUS])
    sheet = load_workbook(io.BytesIO(to_bytes(wb))).worksheets[0]
    assert sheet.title == "'=Trang"
    cells = [c for row in sheet.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)
    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == [
        "'" + v.replace("\r", "\n")
        for v in DANGEROUS  # XML reads a lone CR back as LF
    ]
    assert cell_value(moment) == moment.replace(tzinfo=None)
