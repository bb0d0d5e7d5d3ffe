"""Helpers shared by API routers: CSRF for cookie callers, area look-up, user shapes."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from phongdich.areas.queries import ancestors, display_name, get_area
from phongdich.areas.schemas import AreaRead
from phongdich.auth.roles import ROLE_LABELS, Role
from phongdich.auth.schemas import AreaKey, GrantRead, UserRead
from phongdich.models import Area, User
from phongdich.web.context import Ctx, check_csrf


def api_write(ctx: Ctx, request: Request) -> None:
    """Cookie-signed-in callers must echo their CSRF token in X-CSRF-Token."""
    if ctx.web_session is not None:
        check_csrf(ctx, request.headers.get("x-csrf-token"))


def area_from_key(db: Session, key: AreaKey | None) -> Area | None:
    return get_area(db, key.scheme, key.level, key.code) if key else None


def area_read(db: Session, area: Area) -> AreaRead:
    parents = ancestors(db, [area])
    return AreaRead(
        scheme=area.scheme,
        level=area.level,
        code=area.code,
        name=area.name,
        full_name=display_name(area, parents),
        division_type=area.division_type,
    )


def user_read(db: Session, user: User) -> UserRead:
    area_ids = {g.area_id for g in user.grants if g.area_id}
    areas = (
        {a.id: a for a in db.scalars(select(Area).where(Area.id.in_(area_ids)))} if area_ids else {}
    )
    return UserRead(
        id=user.id,
        full_name=user.full_name,
        username=user.username,
        phone=user.phone,
        is_active=user.is_active,
        grants=[
            GrantRead(
                role=Role(g.role),
                role_label=ROLE_LABELS[Role(g.role)],
                area_scheme=areas[g.area_id].scheme if g.area_id else None,
                area_level=areas[g.area_id].level if g.area_id else None,
                area_code=areas[g.area_id].code if g.area_id else None,
                object_type=g.object_type,
                object_id=g.object_id,
            )
            for g in user.grants
        ],
    )


def accepts_upload[F](endpoint: F) -> F:
    """Mark an endpoint that takes a multipart file upload instead of JSON (see `json_only`).

    Cookie callers still need the CSRF header (`api_write`), so this opens no cross-site path.
    """
    endpoint.accepts_upload = True  # type: ignore[attr-defined]
    return endpoint
