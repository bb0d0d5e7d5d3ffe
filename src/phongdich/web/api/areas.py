"""Administrative areas: search, look-up, per-area settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from phongdich.areas.queries import get_area, search_areas
from phongdich.areas.schemas import AreaRead, AreaSettingChange, AreaSettingsRead
from phongdich.areas.service import change_setting, read_settings
from phongdich.web.api.common import api_write, area_read
from phongdich.web.context import CtxDep

router = APIRouter(prefix="/areas", tags=["areas"])

Scheme = Annotated[str, Query(pattern=r"^(2021|2025)$")]


@router.get("", summary="Tìm đơn vị hành chính (không cần dấu)")
def search(
    ctx: CtxDep,
    q: Annotated[str, Query(min_length=1, max_length=80)],
    scheme: Annotated[str | None, Query(pattern=r"^(2021|2025)$")] = None,
    level: Annotated[str | None, Query(pattern=r"^(province|district|commune)$")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[AreaRead]:
    return [
        AreaRead(
            scheme=a.scheme,
            level=a.level,
            code=a.code,
            name=a.name,
            full_name=full,
            division_type=a.division_type,
        )
        for a, full in search_areas(ctx.db, q, scheme=scheme, level=level, limit=limit)
    ]


@router.get("/{scheme}/{level}/{code}", summary="Một đơn vị hành chính")
def read(scheme: str, level: str, code: str, ctx: CtxDep) -> AreaRead:
    return area_read(ctx.db, get_area(ctx.db, scheme, level, code))


@router.get("/{scheme}/{level}/{code}/settings", summary="Thiết lập của địa bàn")
def settings(scheme: str, level: str, code: str, ctx: CtxDep) -> AreaSettingsRead:
    area = get_area(ctx.db, scheme, level, code)
    values = read_settings(ctx.db, ctx.require_principal(), area)
    return AreaSettingsRead(area=area_read(ctx.db, area), settings=values)


@router.put("/{scheme}/{level}/{code}/settings/{key}", summary="Đổi một thiết lập của địa bàn")
def change(
    scheme: str,
    level: str,
    code: str,
    key: str,
    body: AreaSettingChange,
    ctx: CtxDep,
    request: Request,
) -> AreaSettingsRead:
    api_write(ctx, request)
    ctx.require_principal()
    area = get_area(ctx.db, scheme, level, code)
    change_setting(ctx.db, ctx.actor, area, key, body.value, now=ctx.now)
    return AreaSettingsRead(
        area=area_read(ctx.db, area), settings=read_settings(ctx.db, ctx.principal, area)
    )
