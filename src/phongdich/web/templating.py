"""Jinja2 environment: translations, Vietnam-time date filters, CSRF and the signed-in user."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel.numbers import format_decimal
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape

from phongdich.auth.roles import ROLE_LABELS, Role
from phongdich.core.clock import format_date, format_datetime
from phongdich.core.phone import display_phone
from phongdich.web.context import ANON_CSRF_COOKIE, Ctx

TEMPLATE_DIR = Path(__file__).parent / "templates"

env = Environment(
    loader=FileSystemLoader(TEMPLATE_DIR),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
env.filters["dt"] = format_datetime
env.filters["d"] = format_date
env.filters["phone"] = lambda v: display_phone(v) if v else ""


@pass_context
def _number(context: Any, value: int | float | None) -> str:
    """A count as the reader writes it: 5.677 in Vietnamese, 5,677 in English."""
    if value is None:
        return ""
    return format_decimal(value, locale=context.get("locale") or "vi")


env.filters["n"] = _number


def render(ctx: Ctx, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    """Render a page in the request's language with the common context."""
    _ = ctx.gettext
    roles = sorted({g.role for g in ctx.principal.grants}) if ctx.principal else []
    html = env.get_template(template).render(
        _=_,
        ctx=ctx,
        request=ctx.request,
        locale=ctx.locale,
        user=ctx.user,
        roles=roles,
        role_label=lambda r: _(ROLE_LABELS[Role(r)]),
        csrf_token=ctx.csrf_token,
        **values,
    )
    response = HTMLResponse(html, status_code=status)
    new_token = ctx.extra.get("new_anon_csrf")
    if new_token:
        response.set_cookie(
            ANON_CSRF_COOKIE,
            new_token,
            httponly=True,
            samesite="lax",
            secure=ctx.settings.cookie_secure,
        )
    return response
