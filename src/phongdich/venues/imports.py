"""Importing many venues at once from an Excel (.xlsx) or CSV file.

Two steps: a preview that lists every problem by row and column in Vietnamese, and a commit
that writes every row or none. The commit parses and checks the file again rather than trusting
an earlier preview, so what is written is always what was checked.

Cell values are only ever read as text: a cell holding `=cmd|' /C calc'!A0` is stored as those
characters (nothing here evaluates formulas), and exports escape them on the way out.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from phongdich.audit.service import Actor, record
from phongdich.auth.policy import Target, can, require_somewhere
from phongdich.auth.service import area_ref
from phongdich.core.errors import AppError, Forbidden
from phongdich.core.phone import normalize_phone
from phongdich.core.text import fold
from phongdich.jobs.queries import requester
from phongdich.jobs.runner import enqueue
from phongdich.models import Area, BackgroundJob, Venue, VenueType
from phongdich.venues.queries import APPROVED, CLOSED, REJECTED, area_names
from phongdich.venues.service import (
    VenueDraft,
    build_venue,
    clean_address,
    clean_name,
    insert_many_venues,
)
from phongdich.venues.types import type_lookup

# A province had ~5,700 venues in 2021; 20,000 rows covers a whole province in one file while
# keeping a preview (and the transaction that writes it) to a few seconds.
MAX_ROWS = 20_000
MAX_COLUMNS = 30  # extra columns are ignored; reading stops here so a wide sheet cannot stall us
PREVIEW_ROWS = 200  # rows shown on the preview page; errors and warnings are always all listed

# key: (the header of our template, other spellings people use, folded)
COLUMNS: dict[str, tuple[str, set[str]]] = {
    "name": ("Tên địa điểm", {"ten dia diem", "ten", "name"}),
    "type": ("Loại địa điểm", {"loai dia diem", "loai", "ma loai", "type"}),
    "street_address": ("Địa chỉ", {"dia chi", "address", "street address"}),
    "commune_code": ("Mã xã", {"ma xa", "ma xa/phuong", "ma phuong xa", "commune code"}),
    "contact_phone": ("Số điện thoại", {"so dien thoai", "dien thoai", "sdt", "phone"}),
}
REQUIRED = ("name", "type", "street_address", "commune_code")
TEMPLATE_HEADERS = [label for label, _aliases in COLUMNS.values()]


def _file_error(code: str, message: str, details: object = None) -> AppError:
    return AppError(code, message, details, status=422)


@dataclass(frozen=True)
class RowError:
    row: int  # as the spreadsheet numbers it: the header is row 1
    column: str
    message: str


@dataclass(frozen=True)
class RowWarning:
    row: int
    message: str
    venue_ids: tuple[int, ...] = ()


@dataclass
class ImportRow:
    row: int
    cells: dict[str, str]
    draft: VenueDraft | None = None
    commune_name: str = ""


@dataclass
class ImportPreview:
    rows: list[ImportRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowWarning] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return bool(self.rows) and not self.errors


def _text(value: object) -> str:
    """A cell as the text a person sees; whole-number floats (Excel's numbers) lose the .0."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y")
    return str(value).strip()


def _read_xlsx(content: bytes) -> list[list[str]]:
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception as exc:  # any failure inside the parser means "not a readable workbook"
        raise _file_error(
            "import.file_malformed",
            "Tệp không phải là tệp Excel (.xlsx) hợp lệ hoặc đã bị hỏng. Hãy mở lại bằng Excel "
            "và lưu dưới dạng .xlsx, hoặc dùng tệp CSV (UTF-8).",
        ) from exc
    try:
        sheet = workbook.worksheets[0]
        table: list[list[str]] = []
        for values in sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True):
            table.append([_text(v) for v in values])
            if len(table) > MAX_ROWS + 1:
                break
        return table
    except Exception as exc:  # a sheet that fails half-way is as unreadable as one that fails
        raise _file_error(
            "import.file_malformed", "Không đọc được trang tính đầu tiên của tệp Excel."
        ) from exc
    finally:
        workbook.close()


def _read_csv(content: bytes) -> list[list[str]]:
    if b"\x00" in content:
        raise _file_error(
            "import.file_malformed", "Tệp không phải là tệp CSV hay Excel (.xlsx) hợp lệ."
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _file_error(
            "import.encoding",
            "Tệp CSV phải được lưu với bảng mã UTF-8 (trong Excel: Lưu thành › CSV UTF-8).",
        ) from exc
    first_line = text.split("\n", 1)[0]
    # Excel set to Vietnamese writes ";" between fields, because "," is the decimal mark.
    delimiter = max((";", ",", "\t"), key=first_line.count)
    try:
        table: list[list[str]] = []
        for values in csv.reader(io.StringIO(text), delimiter=delimiter):
            table.append([v.strip() for v in values[:MAX_COLUMNS]])
            if len(table) > MAX_ROWS + 1:
                break
        return table
    except csv.Error as exc:
        raise _file_error(
            "import.file_malformed", "Tệp CSV bị lỗi định dạng: {problem}.", {"problem": str(exc)}
        ) from exc


def read_table(content: bytes, filename: str) -> list[list[str]]:
    """The rows of the file as text, the header first. The content, not the name, decides the
    format: a renamed CSV is read as CSV, and a ".xlsx" that is not a workbook is refused."""
    if not content.strip():
        raise _file_error("import.file_empty", "Tệp trống: không có dòng nào để nhập.")
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise _file_error(
            "import.xls_unsupported",
            "Tệp Excel 97–2003 (.xls) không được hỗ trợ. Hãy lưu lại dưới dạng .xlsx hoặc CSV.",
        )
    if content.startswith(b"PK\x03\x04"):
        table = _read_xlsx(content)
    elif filename.lower().endswith((".xlsx", ".xlsm")):
        raise _file_error(
            "import.file_malformed",
            "Tệp không phải là tệp Excel (.xlsx) hợp lệ hoặc đã bị hỏng.",
        )
    else:
        table = _read_csv(content)
    return [row for row in table if any(row)] if table else []


def _header_map(header: list[str]) -> dict[str, int]:
    by_alias = {alias: key for key, (_label, aliases) in COLUMNS.items() for alias in aliases}
    by_alias |= {fold(label): key for key, (label, _aliases) in COLUMNS.items()}
    found: dict[str, int] = {}
    for index, title in enumerate(header):
        key = by_alias.get(fold(title).replace("_", " "))
        if key is None:
            continue
        if key in found:
            raise _file_error(
                "import.header_duplicate",
                "Cột «{column}» xuất hiện hai lần ở dòng tiêu đề.",
                {"column": COLUMNS[key][0]},
            )
        found[key] = index
    missing = [COLUMNS[k][0] for k in REQUIRED if k not in found]
    if missing:
        raise _file_error(
            "import.header_invalid",
            "Dòng đầu tiên của tệp phải là tiêu đề cột. Thiếu cột: {missing_list}. "
            "Các cột cần có: {expected_list}.",
            {
                "missing": missing,
                "expected": TEMPLATE_HEADERS,
                "missing_list": ", ".join(f"«{m}»" for m in missing),
                "expected_list": ", ".join(f"«{h}»" for h in TEMPLATE_HEADERS),
            },
        )
    return found


def _commune_code(raw: str) -> str:
    # Excel drops leading zeros from codes typed as numbers: 1267 is commune 01267.
    return raw.zfill(5) if raw.isdigit() and len(raw) < 5 else raw


def _communes(session: Session, scheme: str, codes: set[str]) -> dict[str, Area]:
    found: dict[str, Area] = {}
    batch = sorted(c for c in codes if c.isdigit())
    for i in range(0, len(batch), 500):
        found |= {
            a.code: a
            for a in session.scalars(
                select(Area).where(
                    Area.scheme == scheme,
                    Area.level == "commune",
                    Area.code.in_(batch[i : i + 500]),
                )
            )
        }
    return found


def preview_import(
    session: Session, actor: Actor, content: bytes, filename: str, *, scheme: str
) -> ImportPreview:
    """Read and check every row; write nothing. Communes must lie in the official's area."""
    principal = actor.principal
    require_somewhere(principal, "venue.create")
    table = read_table(content, filename)
    if len(table) < 2:
        raise _file_error(
            "import.file_empty", "Tệp chỉ có dòng tiêu đề, chưa có địa điểm nào để nhập."
        )
    if len(table) - 1 > MAX_ROWS:
        raise _file_error(
            "import.too_many_rows",
            "Tệp có hơn {shown} dòng. Hãy chia thành nhiều tệp nhỏ hơn.",
            {"max_rows": MAX_ROWS, "shown": f"{MAX_ROWS:,}".replace(",", ".")},
        )
    columns = _header_map(table[0])
    types = type_lookup(session)
    cells_of = [
        {k: (values[i] if i < len(values) else "") for k, i in columns.items()}
        for values in table[1:]
    ]
    communes = _communes(
        session, scheme, {_commune_code(c.get("commune_code", "")) for c in cells_of}
    )
    names = area_names(session, list(communes.values()))
    preview = ImportPreview()
    for number, cells in enumerate(cells_of, start=2):
        preview.rows.append(
            _check_row(number, cells, types, communes, names, preview.errors, actor)
        )
    _warn_duplicates(session, preview)
    return preview


def _check_row(
    number: int,
    cells: dict[str, str],
    types: dict[str, VenueType],
    communes: dict[str, Area],
    names: dict[int, str],
    errors: list[RowError],
    actor: Actor,
) -> ImportRow:
    row = ImportRow(row=number, cells=cells)
    before = len(errors)

    def fail(key: str, message: str) -> None:
        errors.append(RowError(number, COLUMNS[key][0], message))

    name = address = ""
    try:
        name = clean_name(cells.get("name", ""))
    except AppError as err:
        fail("name", err.message)
    try:
        address = clean_address(cells.get("street_address", ""))
    except AppError as err:
        fail("street_address", err.message)
    venue_type = types.get(fold(cells.get("type", "")).replace(" ", "_")) or types.get(
        fold(cells.get("type", ""))
    )
    if venue_type is None:
        fail("type", f"Không có loại địa điểm «{cells.get('type', '')}».")
    code = _commune_code(cells.get("commune_code", ""))
    commune = communes.get(code)
    if commune is None:
        fail("commune_code", f"Không có xã/phường mã «{code}» trong danh mục đã chọn.")
    elif not can(actor.principal, "venue.create", Target(area=area_ref(commune))):
        fail("commune_code", f"Xã/phường «{commune.name}» không thuộc địa bàn của bạn.")
    phone = None
    if cells.get("contact_phone"):
        try:
            phone = normalize_phone(cells["contact_phone"])
        except AppError as err:
            fail("contact_phone", err.message)
    if len(errors) == before and venue_type is not None and commune is not None:
        row.draft = VenueDraft(name, venue_type, address, commune, phone)
        row.commune_name = names.get(commune.id, commune.name)
    return row


def _warn_duplicates(session: Session, preview: ImportPreview) -> None:
    """Likely duplicates, within the file and against stored venues: warnings, not errors."""
    drafts = [(r.row, r.draft) for r in preview.rows if r.draft is not None]
    seen_name: dict[tuple[str, int], int] = {}
    seen_phone: dict[str, int] = {}
    for number, d in drafts:
        key = (d.name_folded, d.commune.id)
        if key in seen_name:
            preview.warnings.append(
                RowWarning(number, f"Trùng tên và xã với dòng {seen_name[key]} trong tệp.")
            )
        seen_name.setdefault(key, number)
        if d.contact_phone and d.contact_phone in seen_phone:
            preview.warnings.append(
                RowWarning(number, f"Trùng số điện thoại với dòng {seen_phone[d.contact_phone]}.")
            )
        if d.contact_phone:
            seen_phone.setdefault(d.contact_phone, number)
    stored: list[Venue] = []
    names, phones = list({k[0] for k in seen_name}), list(seen_phone)
    for i in range(0, max(len(names), len(phones)), 500):
        stored += session.scalars(
            select(Venue).where(
                or_(
                    Venue.name_folded.in_(names[i : i + 500]),
                    Venue.contact_phone.in_(phones[i : i + 500]),
                ),
                Venue.status.not_in((CLOSED, REJECTED)),
            )
        )
    by_name: dict[tuple[str, int], list[int]] = {}
    by_phone: dict[str, list[int]] = {}
    for v in {v.id: v for v in stored}.values():
        by_name.setdefault((v.name_folded, v.area_id), []).append(v.id)
        if v.contact_phone:
            by_phone.setdefault(v.contact_phone, []).append(v.id)
    for number, d in drafts:
        ids = by_name.get((d.name_folded, d.commune.id), []) + by_phone.get(
            d.contact_phone or "", []
        )
        if ids:
            preview.warnings.append(
                RowWarning(
                    number,
                    "Có thể đã được đăng ký: trùng tên trong cùng xã hoặc trùng số điện thoại "
                    "với địa điểm đã có.",
                    tuple(sorted(set(ids))),
                )
            )
    preview.warnings.sort(key=lambda w: w.row)


def commit_import(
    session: Session,
    actor: Actor,
    content: bytes,
    filename: str,
    *,
    now: datetime,
    scheme: str,
    confirm_duplicates: bool = False,
    progress: Callable[[int, int | None], None] | None = None,
) -> list[int]:
    """Check the whole file again and write every venue (returns their ids), or refuse and
    write nothing; `progress(done, total)` hears of each thousand written (a background job's
    status page)."""
    preview = preview_import(session, actor, content, filename, scheme=scheme)
    if preview.errors:
        raise AppError(
            "import.rejected",
            "Tệp có {count} lỗi; chưa nhập địa điểm nào. Hãy sửa các dòng bị lỗi rồi tải lên lại.",
            {"errors": [e.__dict__ for e in preview.errors[:500]], "count": len(preview.errors)},
            status=422,
        )
    if preview.warnings and not confirm_duplicates:
        raise AppError(
            "import.possible_duplicates",
            "Có {count} dòng có thể trùng với địa điểm đã có. Hãy kiểm tra, rồi xác nhận để nhập.",
            {
                "warnings": [w.__dict__ for w in preview.warnings[:500]],
                "count": len(preview.warnings),
            },
            status=409,
        )
    venues = []
    for r in preview.rows:
        assert r.draft is not None  # no errors means every row has a draft
        venue = build_venue(r.draft, now=now, via="import", status=APPROVED)
        venue.approved_at = now
        venue.approved_by_id = actor.principal.user_id if actor.principal else None
        venues.append(venue)
    ids: list[int] = []
    for i in range(0, len(venues), 1000):
        ids += insert_many_venues(session, venues[i : i + 1000])
        if progress is not None:
            progress(min(i + 1000, len(venues)), len(venues))
    record(
        session,
        actor,
        "venue.import",
        now=now,
        object_type="venue",
        details={
            "filename": filename[:200],
            "count": len(venues),
            "first_id": ids[0],
            "last_id": ids[-1],
            "confirmed_duplicates": len(preview.warnings),
        },
    )
    return ids


# Files up to this many rows are written while the official waits (about a second per
# thousand here); bigger ones by a background job with a status page.
IN_REQUEST_ROWS = 2_000
IMPORT_KIND = "venues.import"


def queue_import(
    session: Session,
    actor: Actor,
    payload: str,
    *,
    now: datetime,
    scheme: str,
    confirm_duplicates: bool,
) -> BackgroundJob:
    """Queue the commit of checked rows (`rows_as_csv`) for the worker; the job checks them,
    and the requester's rights, again when it runs."""
    principal = actor.principal
    if principal is None or principal.user_id is None:
        raise Forbidden()
    require_somewhere(principal, "venue.create")
    params = {"payload": payload, "scheme": scheme, "confirm": confirm_duplicates,
              "user_id": principal.user_id}  # fmt: skip
    return enqueue(session, IMPORT_KIND, params, now=now, user_id=principal.user_id)


def run_import(
    session: Session,
    params: dict[str, Any],
    now: datetime,
    progress: Callable[[int, int | None], None],
) -> dict[str, Any]:
    """The job: the requester's rights as they are now, then `commit_import` (all or none)."""
    ids = commit_import(
        session,
        Actor(requester(session, params)),
        str(params["payload"]).encode(),
        "preview.csv",
        now=now,
        scheme=str(params["scheme"]),
        confirm_duplicates=bool(params["confirm"]),
        progress=progress,
    )
    return {"created": len(ids), "link_url": "/venues"}


HANDLERS = {IMPORT_KIND: run_import}


def rows_as_csv(preview: ImportPreview) -> str:
    """The checked rows as a CSV in our template's columns, so a preview page can send exactly
    what it showed back to be committed (and checked again) without storing the upload."""
    out = io.StringIO()
    writer = csv.writer(out)
    keys = list(COLUMNS)
    writer.writerow([COLUMNS[k][0] for k in keys])
    for r in preview.rows:
        writer.writerow([r.cells.get(k, "") for k in keys])
    return out.getvalue()
