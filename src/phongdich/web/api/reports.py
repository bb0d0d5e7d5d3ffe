"""Reports as JSON: the venue report and the follow-up list of venues without scans."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from phongdich.areas.queries import get_area
from phongdich.reports.schemas import DormantList, VenueReport
from phongdich.reports.venues import default_range, dormant_venues, venue_activity_report
from phongdich.web.context import CtxDep

router = APIRouter(prefix="/reports", tags=["reports"])

DistrictQ = Annotated[str | None, Query(pattern=r"^\d{3}$", description="Mã huyện (2021)")]


@router.get("/venues", summary="Báo cáo địa điểm: đã đăng ký, có và không có lượt quét")
def venue_report(
    ctx: CtxDep,
    date_from: date | None = None,
    date_to: date | None = None,
    district: DistrictQ = None,
) -> VenueReport:
    default_from, default_to = default_range(ctx.now)
    within = get_area(ctx.db, "2021", "district", district) if district else None
    return venue_activity_report(
        ctx.db,
        ctx.require_principal(),
        date_from=date_from or default_from,
        date_to=date_to or default_to,
        now=ctx.now,
        within=within,
    )


@router.get("/venues/dormant", summary="Địa điểm không có lượt quét, kèm liên hệ chủ địa điểm")
def dormant(
    ctx: CtxDep,
    date_from: date | None = None,
    date_to: date | None = None,
    district: DistrictQ = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> DormantList:
    default_from, default_to = default_range(ctx.now)
    within = get_area(ctx.db, "2021", "district", district) if district else None
    return dormant_venues(
        ctx.db,
        ctx.require_principal(),
        date_from=date_from or default_from,
        date_to=date_to or default_to,
        within=within,
        limit=limit,
    )
