"""What a phone opens when it scans a venue poster (`/v/<token>`), or when someone types the
short code (`/v/code`): the venue, or a plain explanation of why the code is refused.

The owner or a staff member of the venue scanning their own poster can confirm it is still up
(the poster check); that is recorded apart from visits.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from phongdich.areas.queries import ancestors, display_name
from phongdich.auth.policy import Target, can, require
from phongdich.core.errors import AppError
from phongdich.core.shortcode import format_short_code
from phongdich.models import Area, VenueType
from phongdich.venues.activity import POSTER_CHECK, record_scan
from phongdich.venues.qr import ScannedPlace, resolve_short_code, resolve_token
from phongdich.web.context import Ctx, CtxDep, check_csrf
from phongdich.web.templating import render

router = APIRouter()


def _may_check_poster(ctx: Ctx, place: ScannedPlace) -> bool:
    # Owner and staff hold `venue.scan` for their own venue only; officials do not.
    return ctx.user is not None and can(
        ctx.principal, "venue.scan", Target(object_type="venue", object_id=place.venue.id)
    )


def _place_page(ctx: Ctx, place: ScannedPlace, *, token: str | None) -> HTMLResponse:
    venue = place.venue
    commune = ctx.db.get(Area, venue.area_id)
    assert commune is not None
    vtype = ctx.db.get(VenueType, venue.type_id)
    code = place.location.short_code if place.location else venue.short_code
    return render(
        ctx,
        "venue_qr/place.html",
        venue=venue,
        location=place.location,
        type_name=vtype.name if vtype else "",
        address=f"{venue.street_address}, {display_name(commune, ancestors(ctx.db, [commune]))}",
        code=format_short_code(code),
        token=token,
        issued_at=place.issued_at,
        may_check_poster=token is not None and _may_check_poster(ctx, place),
        checked=ctx.request.query_params.get("checked") == "1",
    )


def _refusal_page(ctx: Ctx, err: AppError) -> HTMLResponse:
    return render(
        ctx,
        "venue_qr/invalid.html",
        status=err.status,
        code=err.code,
        message=err.text(ctx.gettext),
    )


@router.get("/v/code", response_class=HTMLResponse)
def type_code(ctx: CtxDep, c: Annotated[str, Query(max_length=40)] = "") -> Response:
    """The form for typing the code printed under the QR."""
    if not c.strip():
        return render(ctx, "venue_qr/code.html", value="", error=None)
    try:
        place = resolve_short_code(ctx.db, c)
    except AppError as err:
        return render(
            ctx, "venue_qr/code.html", status=err.status, value=c, error=err.text(ctx.gettext)
        )
    code = place.location.short_code if place.location else place.venue.short_code
    return RedirectResponse(f"/v/code/{code}", status_code=303)


@router.get("/v/code/{code}", response_class=HTMLResponse)
def by_code(code: str, ctx: CtxDep) -> HTMLResponse:
    try:
        place = resolve_short_code(ctx.db, code)
    except AppError as err:
        return _refusal_page(ctx, err)
    return _place_page(ctx, place, token=None)


@router.get("/v/{token}", response_class=HTMLResponse)
def scanned(token: str, ctx: CtxDep) -> HTMLResponse:
    try:
        place = resolve_token(ctx.db, token)
    except AppError as err:
        return _refusal_page(ctx, err)
    return _place_page(ctx, place, token=token)


@router.post("/v/{token}/poster-check")
def poster_check(
    token: str, ctx: CtxDep, csrf_token: Annotated[str, Form(max_length=100)] = ""
) -> Response:
    """The owner or staff confirm the scanned poster is still up; not counted as a visit."""
    user = ctx.require_user()
    check_csrf(ctx, csrf_token)
    try:
        place = resolve_token(ctx.db, token)
    except AppError as err:
        return _refusal_page(ctx, err)
    require(ctx.principal, "venue.scan", Target(object_type="venue", object_id=place.venue.id))
    record_scan(ctx.db, place.venue, person_key=f"user:{user.id}", at=ctx.now, kind=POSTER_CHECK)
    return RedirectResponse(f"/v/{token}?checked=1", status_code=303)
