"""Importing venues from Excel and CSV: preview, all-or-nothing commit, refused files."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from phongdich.auth.roles import Role
from phongdich.core.errors import AppError, Forbidden
from phongdich.models import AuditEntry, Venue
from phongdich.venues import service as venue_service
from phongdich.venues.imports import (
    MAX_ROWS,
    TEMPLATE_HEADERS,
    commit_import,
    preview_import,
    rows_as_csv,
)
from tests.conftest import T0
from tests.factories import HOANG_TUNG, TP_CAO_BANG, official
from tests.venues.factories import actor_of, registered_venue

SONG_HIEN_CODE = "01267"
HEADER = TEMPLATE_HEADERS  # Tên địa điểm, Loại địa điểm, Địa chỉ, Mã xã, Số điện thoại


def xlsx(rows: list[list[object]], header: list[str] = HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows: list[list[str]], delimiter: str = ",") -> bytes:
    lines = [delimiter.join(HEADER)] + [delimiter.join(r) for r in rows]
    return ("\ufeff" + "\n".join(lines)).encode()


def venue_count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Venue)) or 0


@pytest.fixture
def district(db: Session):  # type: ignore[no-untyped-def]
    return actor_of(db, official(db, Role.DISTRICT_OFFICIAL, TP_CAO_BANG))


GOOD = [
    ["Chợ Sông Hiến", "market", "Tổ 5, phường Sông Hiến", SONG_HIEN_CODE, "0912 345 001"],
    ["Trường THCS Sông Hiến", "Trường học", "Tổ 9", 1267, "0912345002"],  # code lost its zero
    ["Quán cà phê Mây", "nha hang, quan an, quan ca phe", "Số 3", SONG_HIEN_CODE, ""],
]


def test_a_good_workbook_is_previewed_then_written(db: Session, district) -> None:  # type: ignore[no-untyped-def]
    content = xlsx(GOOD)  # type: ignore[arg-type]
    before = venue_count(db)
    preview = preview_import(db, district, content, "dia-diem.xlsx", scheme="2021")
    assert preview.accepted and not preview.errors
    assert [r.draft.type.code for r in preview.rows if r.draft] == [
        "market",
        "school",
        "restaurant",
    ]
    assert "Thành phố Cao Bằng" in preview.rows[0].commune_name
    assert venue_count(db) == before  # a preview writes nothing

    ids = commit_import(db, district, content, "dia-diem.xlsx", now=T0, scheme="2021")
    assert venue_count(db) == before + 3
    venues = [db.get(Venue, i) for i in ids]  # in the file's order
    assert [v.name for v in venues] == [row[0] for row in GOOD]  # type: ignore[union-attr]
    assert {v.status for v in venues} == {"approved"}  # type: ignore[union-attr]
    assert {v.registered_via for v in venues} == {"import"}  # type: ignore[union-attr]
    assert {v.approved_at for v in venues} == {T0}  # type: ignore[union-attr]
    assert len({v.short_code for v in venues}) == 3  # type: ignore[union-attr]
    assert venues[1].contact_phone == "+84912345002"  # type: ignore[union-attr]
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "venue.import")).one()
    assert entry.details and entry.details["count"] == 3
    assert (entry.details["first_id"], entry.details["last_id"]) == (ids[0], ids[-1])


def test_one_bad_row_among_good_ones_writes_nothing(db: Session, district) -> None:  # type: ignore[no-untyped-def]
    rows = [*GOOD, ["", "spaceship", "Số 1", "99999", "12345"]]
    content = xlsx(rows)  # type: ignore[arg-type]
    before = venue_count(db)
    preview = preview_import(db, district, content, "x.xlsx", scheme="2021")
    assert not preview.accepted
    by_column = {e.column: e for e in preview.errors}
    assert {e.row for e in preview.errors} == {5}  # the header is row 1
    assert set(by_column) == {"Tên địa điểm", "Loại địa điểm", "Mã xã", "Số điện thoại"}
    assert "spaceship" in by_column["Loại địa điểm"].message
    with pytest.raises(AppError) as refused:
        commit_import(db, district, content, "x.xlsx", now=T0, scheme="2021")
    assert refused.value.code == "import.rejected"
    assert refused.value.details["count"] == 4
    assert venue_count(db) == before


def test_a_commune_outside_the_officials_area_is_a_row_error(db: Session, district) -> None:  # type: ignore[no-untyped-def]
    content = csv_bytes([["Quán Hoàng Tung", "restaurant", "Xóm 1", HOANG_TUNG[1], ""]])
    preview = preview_import(db, district, content, "a.csv", scheme="2021")
    assert [(e.row, e.column) for e in preview.errors] == [(2, "Mã xã")]
    assert "không thuộc địa bàn" in preview.errors[0].message


def test_formula_like_cells_are_stored_as_text(db: Session, district) -> None:  # type: ignore[no-untyped-def]
    evil = "=cmd|' /C calc'!A0"
    rows = [
        [evil, "market", "+1 đường A", SONG_HIEN_CODE, ""],
        ["@SUM(1+1)", "market", "-2 ngõ B", SONG_HIEN_CODE, ""],
    ]
    ids = commit_import(db, district, xlsx(rows), "f.xlsx", now=T0, scheme="2021")  # type: ignore[arg-type]
    stored = {v.name: v.street_address for v in db.scalars(select(Venue).where(Venue.id.in_(ids)))}
    assert stored == {evil: "+1 đường A", "@SUM(1+1)": "-2 ngõ B"}
    # The same from CSV with semicolons (Excel set to Vietnamese).
    text_rows = [["+84 Quán lạ", "market", "=1+2", SONG_HIEN_CODE, ""]]
    more = commit_import(db, district, csv_bytes(text_rows, ";"), "f.csv", now=T0, scheme="2021")
    added = db.get(Venue, more[0])
    assert added is not None and (added.name, added.street_address) == ("+84 Quán lạ", "=1+2")


def test_duplicates_are_warned_and_need_confirming(db: Session, district) -> None:  # type: ignore[no-untyped-def]
    existing = registered_venue(db, name="Chợ Sông Hiến")
    rows = [
        ["Cho Song Hien", "market", "Tổ 5", SONG_HIEN_CODE, ""],
        ["Tiệm A", "market", "Tổ 6", SONG_HIEN_CODE, "0912 777 888"],
        ["Tiệm B", "market", "Tổ 7", SONG_HIEN_CODE, "0912777888"],
    ]
    content = xlsx(rows)  # type: ignore[arg-type]
    preview = preview_import(db, district, content, "d.xlsx", scheme="2021")
    assert preview.accepted
    assert [(w.row, w.venue_ids) for w in preview.warnings] == [(2, (existing.id,)), (4, ())]
    before = venue_count(db)
    with pytest.raises(AppError) as warned:
        commit_import(db, district, content, "d.xlsx", now=T0, scheme="2021")
    assert warned.value.code == "import.possible_duplicates"
    assert venue_count(db) == before
    commit_import(db, district, content, "d.xlsx", now=T0, scheme="2021", confirm_duplicates=True)
    assert venue_count(db) == before + 3


@pytest.mark.parametrize(
    ("content", "filename", "code"),
    [
        (b"", "empty.csv", "import.file_empty"),
        (b"PK\x03\x04 this is no workbook", "broken.xlsx", "import.file_malformed"),
        (b"just some text, not a table", "notes.xlsx", "import.file_malformed"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old", "old.xls", "import.xls_unsupported"),
        (b"\x00\x01\x02binary", "x.csv", "import.file_malformed"),
        ("Tên,Địa chỉ\nA,B\n".encode("utf-16"), "x.csv", "import.file_malformed"),
        (b"T\xean;\xd0\xf2a ch\xec\nA;B\n", "x.csv", "import.encoding"),
        ("Tên địa điểm,Địa chỉ\nA,B\n".encode(), "x.csv", "import.header_invalid"),
        (b"\xef\xbb\xbf" + ",".join(HEADER).encode(), "x.csv", "import.file_empty"),
    ],
)
def test_malformed_files_are_refused_in_vietnamese(
    db: Session,
    district,
    content: bytes,
    filename: str,
    code: str,  # type: ignore[no-untyped-def]
) -> None:
    with pytest.raises(AppError) as refused:
        preview_import(db, district, content, filename, scheme="2021")
    assert refused.value.code == code
    assert refused.value.status == 422
    assert refused.value.message.endswith(".")


def test_a_huge_file_is_refused_before_checking_rows(db: Session, district) -> None:  # type: ignore[no-untyped-def]
    row = ",".join(["Quán", "market", "Số 1", SONG_HIEN_CODE, ""])
    content = (",".join(HEADER) + "\n" + "\n".join([row] * (MAX_ROWS + 1))).encode()
    with pytest.raises(AppError) as refused:
        preview_import(db, district, content, "big.csv", scheme="2021")
    assert refused.value.code == "import.too_many_rows"
    assert "20.000" in refused.value.message


def test_only_officials_import(db: Session) -> None:
    from tests.venues.factories import citizen

    with pytest.raises(Forbidden):
        preview_import(db, actor_of(db, citizen(db)), xlsx(GOOD), "x.xlsx", scheme="2021")  # type: ignore[arg-type]


def test_the_preview_round_trips_as_csv(db: Session, district) -> None:  # type: ignore[no-untyped-def]
    first = preview_import(db, district, xlsx(GOOD), "x.xlsx", scheme="2021")  # type: ignore[arg-type]
    again = preview_import(db, district, rows_as_csv(first).encode(), "p.csv", scheme="2021")
    assert [r.draft for r in again.rows] == [r.draft for r in first.rows]


def test_a_short_code_taken_in_between_is_drawn_again(
    db: Session, district, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """Two writers may pick the same fresh code at once: the unique constraint refuses the
    second, whose rows are then written with new codes (and nothing twice)."""
    existing = registered_venue(db, name="Chợ có sẵn")
    drawn = iter([existing.short_code])
    real_draw = venue_service.new_short_code
    monkeypatch.setattr(venue_service, "new_short_code", lambda: next(drawn, None) or real_draw())
    checked = iter([set()])  # the first check misses the code, as a race would
    real_taken = venue_service._taken_codes
    monkeypatch.setattr(
        venue_service, "_taken_codes", lambda s, codes: next(checked, None) or real_taken(s, codes)
    )
    before = venue_count(db)
    rows = [
        ["Quầy A", "market", "Số 1", SONG_HIEN_CODE, ""],
        ["Quầy B", "market", "Số 2", SONG_HIEN_CODE, ""],
    ]
    ids = commit_import(db, district, xlsx(rows), "f.xlsx", now=T0, scheme="2021")  # type: ignore[arg-type]
    assert venue_count(db) == before + 2
    venues = [db.get(Venue, i) for i in ids]
    assert [v.name for v in venues] == ["Quầy A", "Quầy B"]  # type: ignore[union-attr]
    assert existing.short_code not in {v.short_code for v in venues}  # type: ignore[union-attr]
