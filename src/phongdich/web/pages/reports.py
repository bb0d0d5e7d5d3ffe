"""The venue report for officials: a table and a chart by district, commune and type, its Excel
export, and the list of venues without scans (with owner contacts) for follow-up."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from phongdich.areas.queries import get_area
from phongdich.models import Area
from phongdich.reports.charts import active_dormant_bars
from phongdich.reports.exports import XLSX_TYPE, dormant_xlsx, venue_report_xlsx
from phongdich.reports.venues import (
    default_range,
    districts_in_scope,
    dormant_venues,
    parse_day,
    venue_activity_report,
)
from phongdich.web.context import Ctx, CtxDep
from phongdich.web.templating import render

router = APIRouter()
DORMANT_PAGE_LIMIT = 500

FromQ = Annotated[str, Query(alias="from", max_length=20)]
ToQ = Annotated[str, Query(alias="to", max_length=20)]
DistrictQ = Annotated[str, Query(pattern=r"^(|\d{3})$")]


def _params(
    ctx: Ctx, date_from: str, date_to: str, district: str
) -> tuple[date, date, Area | None]:
    default_from, default_to = default_range(ctx.now)
    return (
        parse_day(date_from) if date_from.strip() else default_from,
        parse_day(date_to) if date_to.strip() else default_to,
        get_area(ctx.db, "2021", "district", district) if district else None,
    )


def _query_string(d_from: date, d_to: date, district: str) -> str:
    q = f"from={d_from:%d/%m/%Y}&to={d_to:%d/%m/%Y}"
    return q + (f"&district={district}" if district else "")


def _xlsx(content: bytes, filename: str) -> Response:
    return Response(
        content,
        media_type=XLSX_TYPE,
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/reports/venues", response_class=HTMLResponse)
def venue_report_page(
    ctx: CtxDep, date_from: FromQ = "", date_to: ToQ = "", district: DistrictQ = ""
) -> HTMLResponse:
    principal = ctx.require_principal()
    d_from, d_to, within = _params(ctx, date_from, date_to, district)
    report = venue_activity_report(
        ctx.db, principal, date_from=d_from, date_to=d_to, now=ctx.now, within=within
    )
    rows = report.by_district if len(report.by_district) > 1 else report.by_commune
    chart = active_dormant_bars(
        rows,
        title=ctx.gettext("Địa điểm có và không có lượt quét"),
        active_label=ctx.gettext("Có lượt quét"),
        dormant_label=ctx.gettext("Không có lượt quét"),
    )
    return render(
        ctx,
        "reports/venues.html",
        report=report,
        chart=Markup(chart),  # noqa: S704  built from escaped text by reports.charts
        districts=districts_in_scope(ctx.db, principal),
        district=district,
        query=_query_string(d_from, d_to, district),
    )


@router.get("/reports/venues.xlsx")
def venue_report_xlsx_download(
    ctx: CtxDep, date_from: FromQ = "", date_to: ToQ = "", district: DistrictQ = ""
) -> Response:
    d_from, d_to, within = _params(ctx, date_from, date_to, district)
    report = venue_activity_report(
        ctx.db, ctx.require_principal(), date_from=d_from, date_to=d_to, now=ctx.now, within=within
    )
    return _xlsx(venue_report_xlsx(report), f"bao-cao-dia-diem_{d_from}_{d_to}.xlsx")


@router.get("/reports/venues/dormant", response_class=HTMLResponse)
def dormant_page(
    ctx: CtxDep, date_from: FromQ = "", date_to: ToQ = "", district: DistrictQ = ""
) -> HTMLResponse:
    principal = ctx.require_principal()
    d_from, d_to, within = _params(ctx, date_from, date_to, district)
    data = dormant_venues(
        ctx.db,
        principal,
        date_from=d_from,
        date_to=d_to,
        within=within,
        limit=DORMANT_PAGE_LIMIT,
    )
    return render(
        ctx,
        "reports/dormant.html",
        data=data,
        districts=districts_in_scope(ctx.db, principal),
        district=district,
        query=_query_string(d_from, d_to, district),
    )


@router.get("/reports/venues/dormant.xlsx")
def dormant_xlsx_download(
    ctx: CtxDep, date_from: FromQ = "", date_to: ToQ = "", district: DistrictQ = ""
) -> Response:
    d_from, d_to, within = _params(ctx, date_from, date_to, district)
    data = dormant_venues(
        ctx.db, ctx.require_principal(), date_from=d_from, date_to=d_to, within=within
    )
    return _xlsx(dormant_xlsx(data), f"dia-diem-khong-co-luot-quet_{d_from}_{d_to}.xlsx")
