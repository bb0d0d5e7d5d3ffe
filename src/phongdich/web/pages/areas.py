"""Area search, and the settings page officials use for their own area."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from phongdich.areas.queries import ancestors, display_name, get_area, search_areas
from phongdich.areas.service import SETTINGS, change_setting, read_settings
from phongdich.web.context import CtxDep, check_csrf
from phongdich.web.templating import render

router = APIRouter()


@router.get("/areas", response_class=HTMLResponse)
def areas_page(
    ctx: CtxDep,
    q: Annotated[str, Query(max_length=80)] = "",
    scheme: Annotated[str, Query(pattern=r"^(|2021|2025)$")] = "",
) -> HTMLResponse:
    hits = search_areas(ctx.db, q, scheme=scheme or None, limit=50) if q.strip() else []
    return render(ctx, "areas/search.html", q=q, scheme=scheme, hits=hits)


@router.get("/areas/{scheme}/{level}/{code}/settings", response_class=HTMLResponse)
def settings_page(scheme: str, level: str, code: str, ctx: CtxDep) -> HTMLResponse:
    area = get_area(ctx.db, scheme, level, code)
    values = read_settings(ctx.db, ctx.require_principal(), area)
    full_name = display_name(area, ancestors(ctx.db, [area]))
    return render(
        ctx, "areas/settings.html", area=area, full_name=full_name, values=values, specs=SETTINGS
    )


@router.post("/areas/{scheme}/{level}/{code}/settings")
def settings_change(
    scheme: str,
    level: str,
    code: str,
    ctx: CtxDep,
    key: Annotated[str, Form(max_length=60)],
    value: Annotated[str, Form(max_length=200)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    ctx.require_principal()
    check_csrf(ctx, csrf_token)
    area = get_area(ctx.db, scheme, level, code)
    change_setting(ctx.db, ctx.actor, area, key, value, now=ctx.now)
    return RedirectResponse(f"/areas/{scheme}/{level}/{code}/settings?saved=1", status_code=303)
