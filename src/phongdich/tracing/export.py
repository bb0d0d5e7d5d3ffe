"""Excel F1 lists: for one case, or for every case an officer may see; every text cell is
formula-escaped. Large lists run as a background job (`tracing.tasks`) and are stored for the
official who asked, and only them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from phongdich.auth.policy import Principal, require_somewhere
from phongdich.core.clock import to_local
from phongdich.core.errors import NotFound
from phongdich.core.phone import display_phone
from phongdich.models import Area, Case, Contact, Person, TracingExport
from phongdich.tracing.queries import case_scope, load_case
from phongdich.tracing.xlsx import write_xlsx
from phongdich.venues.queries import area_names

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = [
    "STT",
    "Họ và tên",
    "Năm sinh",
    "Giới tính",
    "Số giấy tờ",
    "Điện thoại",
    "Địa chỉ",
    "Trạm y tế xã theo dõi",
    "Phân loại",
    "Ca bệnh",
    "Tiếp xúc từ",
    "Tiếp xúc đến",
    "Cách ly từ ngày",
    "Cách ly đến ngày",
    "Nơi cách ly",
    "Quy định áp dụng",
    "Tình trạng",
]
WIDTHS = [7, 28, 9, 9, 15, 14, 32, 40, 9, 14, 17, 17, 13, 13, 14, 34, 12]
SEX = {"male": "Nam", "female": "Nữ"}
PLACE = {"facility": "Tập trung", "home": "Tại nhà", "home_monitoring": "Theo dõi tại nhà"}
STATUS = {"quarantined": "Đang cách ly", "became_case": "Đã thành F0", "released": "Hết cách ly"}


def _query(principal: Principal, case_id: int | None) -> Select[*tuple[Any, ...]]:
    query = (
        select(
            Person.full_name,
            Person.birth_year,
            Person.sex,
            Person.id_number,
            Person.phone,
            Person.street_address,
            Contact.station_area_id,
            Contact.generation,
            Case.code,
            Contact.exposure_from,
            Contact.exposure_to,
            Contact.quarantine_start,
            Contact.quarantine_end,
            Contact.quarantine_place,
            Contact.quarantine_rule_version,
            Contact.status,
        )
        .join(Person, Person.id == Contact.person_id)
        .join(Case, Case.id == Contact.case_id)
    )
    if case_id is not None:
        return query.where(Contact.case_id == case_id).order_by(Contact.generation, Contact.id)
    scope = case_scope(principal)
    query = query.join(Area, Area.id == Case.area_id)
    if scope is not None:
        query = query.where(scope)
    return query.order_by(Case.id, Contact.generation, Contact.id)


def f1_rows(session: Session, principal: Principal, case_id: int | None) -> Iterator[list[Any]]:
    """The list's rows, streamed from the database (checks access first)."""
    if case_id is not None:
        load_case(session, principal, case_id)
    else:
        require_somewhere(principal, "case.read")
    station_names: dict[int, str] = {}
    result = session.execute(_query(principal, case_id).execution_options(yield_per=5000))
    n = 0
    for part in result.partitions():
        missing = {r[6] for r in part if r[6] is not None and r[6] not in station_names}
        if missing:
            areas = list(session.scalars(select(Area).where(Area.id.in_(missing))))
            station_names.update(area_names(session, areas))
        for r in part:
            n += 1
            yield [
                n,
                r[0],
                r[1],
                SEX.get(r[2] or "", ""),
                r[3] or "",
                display_phone(r[4]) if r[4] else "",
                r[5] or "",
                station_names.get(r[6], "") if r[6] is not None else "",
                f"F{r[7]}",
                r[8],
                to_local(r[9]).replace(tzinfo=None),
                to_local(r[10]).replace(tzinfo=None),
                r[11],
                r[12],
                PLACE.get(r[13], r[13]),
                r[14],
                STATUS.get(r[15], r[15]),
            ]


def build_f1_export(
    session: Session,
    principal: Principal,
    *,
    case_id: int | None,
    now: datetime,
    job_id: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> TracingExport:
    """Write the list and keep the file for the requester (flush only)."""
    assert principal.user_id is not None, "an export belongs to a signed-in official"
    label = "tat-ca"
    if case_id is not None:
        case_obj = session.get(Case, case_id)
        label = case_obj.code if case_obj else str(case_id)
    content, rows = write_xlsx(
        "Danh sách F1, F2",
        HEADER,
        f1_rows(session, principal, case_id),
        widths=WIDTHS,
        progress=progress,
    )
    export = TracingExport(
        requested_by_id=principal.user_id,
        job_id=job_id,
        case_id=case_id,
        filename=f"danh-sach-f1-{label}-{to_local(now):%Y%m%d-%H%M}.xlsx",
        rows=rows,
        content=content,
        created_at=now,
    )
    session.add(export)
    session.flush()
    return export


def export_for(session: Session, principal: Principal, export_id: int) -> TracingExport:
    """The stored file, for the official who asked for it only (others: not found)."""
    export = session.get(TracingExport, export_id)
    if export is None or principal.user_id is None or export.requested_by_id != principal.user_id:
        raise NotFound("export.not_found", "Không tìm thấy tệp.")
    return export
