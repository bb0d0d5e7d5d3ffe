"""The home page, shaped by the roles of whoever is signed in; the language switch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, RedirectResponse

from phongdich.auth.roles import ROLE_ACTIONS
from phongdich.auth.service import user_home_areas
from phongdich.core.i18n import LOCALES
from phongdich.web.context import CtxDep
from phongdich.web.templating import render

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def home(ctx: CtxDep) -> HTMLResponse:
    if ctx.user is None:
        return render(ctx, "home/welcome.html")
    actions: set[str] = set()
    for grant in ctx.principal.grants if ctx.principal else ():
        actions |= ROLE_ACTIONS[grant.role]
    areas = user_home_areas(ctx.db, ctx.user)
    return render(ctx, "home/home.html", actions=actions, areas=areas)


@router.get("/lang/{locale}")
def switch_language(
    locale: str, ctx: CtxDep, next: Annotated[str, Query(max_length=200)] = "/"
) -> RedirectResponse:
    # Only local paths, so the switch cannot be used to bounce people to another site.
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    response = RedirectResponse(target, status_code=303)
    if locale in LOCALES:
        response.set_cookie("lang", locale, max_age=365 * 24 * 3600, samesite="lax")
    return response


@router.get("/healthz", include_in_schema=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}
