"""Poster PDFs: one venue's (owner or official), or all venues of a commune or a district as one
PDF (officials of that area). Each download signs fresh codes with the current key."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy import or_, select

from phongdich.areas.queries import get_area
from phongdich.auth.policy import Target, require
from phongdich.auth.service import area_ref
from phongdich.core.errors import AppError
from phongdich.models import Area, Venue, VenueLocation
from phongdich.venues.posters import MAX_BATCH, posters_pdf
from phongdich.venues.queries import OPERATING, load_venue
from phongdich.web.context import CtxDep

router = APIRouter()


def _pdf(content: bytes, filename: str) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={"content-disposition": f'inline; filename="{filename}"'},
    )


@router.get("/venues/{venue_id}/poster.pdf")
def venue_poster(
    venue_id: int,
    ctx: CtxDep,
    location: Annotated[int | None, Query(ge=1)] = None,
    with_locations: Annotated[bool, Query(alias="all")] = False,
) -> Response:
    """The venue's poster; `?location=ID` for one sub-location, `?all=1` for every one."""
    venue, _area = load_venue(ctx.db, ctx.require_principal(), venue_id, "venue.manage")
    query = select(VenueLocation).where(VenueLocation.venue_id == venue.id)
    if location is not None:
        query = query.where(VenueLocation.id == location)
    locations = list(ctx.db.scalars(query.order_by(VenueLocation.id)))
    if location is not None and not locations:
        raise AppError("venue.location_not_found", "Không tìm thấy khu vực này.", status=404)
    items: list[Venue | tuple[Venue, VenueLocation | None]] = []
    if location is None:
        items.append(venue)
    if location is not None or with_locations:
        items += [(venue, loc) for loc in locations]
    pdf = posters_pdf(ctx.db, items, base_url=ctx.settings.base_url, now=ctx.now)
    return _pdf(pdf, f"ap-phich-{venue.short_code}.pdf")


@router.get("/posters/venues.pdf")
def batch_posters(
    ctx: CtxDep,
    commune: Annotated[str, Query(pattern=r"^\d{5}$")] = "",
    district: Annotated[str, Query(pattern=r"^\d{3}$")] = "",
    scheme: Annotated[str, Query(pattern=r"^(2021|2025)$")] = "2021",
) -> Response:
    """All operating venues of a commune (or of a district) as one PDF, for the area's officials."""
    if not commune and not district:
        raise AppError("poster.area_required", "Hãy chọn một xã hoặc một huyện để in áp phích.")
    area = get_area(ctx.db, scheme, "commune" if commune else "district", commune or district)
    require(ctx.require_principal(), "venue.manage", Target(area=area_ref(area)))
    venues = list(
        ctx.db.scalars(
            select(Venue)
            .join(Area, Area.id == Venue.area_id)
            .where(
                Area.scheme == area.scheme,
                or_(Area.path == area.path, Area.path.startswith(area.path + "/")),
                Venue.status.in_(OPERATING),
            )
            .order_by(Area.path, Venue.name_folded, Venue.id)
            .limit(MAX_BATCH + 1)
        )
    )
    pdf = posters_pdf(ctx.db, venues, base_url=ctx.settings.base_url, now=ctx.now)
    return _pdf(pdf, f"ap-phich-{area.code}.pdf")
