"""The commune health station's daily follow-up page: today's F1s and F2s under follow-up in
its area, the ones already missed first, and one tap per person to record the call."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from phongdich.core.clock import local_day
from phongdich.core.i18n import N_
from phongdich.models import FollowUp
from phongdich.tracing.follow_ups import (
    due_follow_ups,
    record_follow_up,
    station_names,
    temperature_invalid,
)
from phongdich.web.context import CtxDep, check_csrf
from phongdich.web.pages.tracing import parse_day
from phongdich.web.templating import env, render

router = APIRouter()
CsrfForm = Annotated[str, Form(max_length=100)]

# The page's three buttons: one tap records the usual answers; temperature and note are extra.
RESULTS = {
    "well": (True, False),
    "symptoms": (True, True),
    "unreached": (False, None),
}
FOLLOW_UP_STATUS = {
    "due": N_("Chưa ghi nhận"),
    "done": N_("Đã liên hệ"),
    "missed": N_("Không liên lạc được"),
    "stopped": N_("Ngừng theo dõi (đã thành ca bệnh)"),
}
QUARANTINE_PLACES = {
    "facility": N_("cách ly tập trung"),
    "home": N_("cách ly tại nhà"),
    "home_monitoring": N_("tự theo dõi tại nhà"),
}
env.globals["follow_up_status"] = lambda s: FOLLOW_UP_STATUS.get(s, s)
env.globals["quarantine_place"] = lambda p: QUARANTINE_PLACES.get(p, p)


def _temperature(value: str) -> float | None:
    value = value.strip().replace(",", ".")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise temperature_invalid(value) from None


@router.get("/tracing/follow-ups", response_class=HTMLResponse)
def follow_ups_page(
    ctx: CtxDep,
    day: Annotated[str, Query(max_length=10)] = "",
    done: Annotated[int | None, Query()] = None,
) -> HTMLResponse:
    principal = ctx.require_principal()
    today = local_day(ctx.now)
    shown = min(parse_day(day) or today, today)
    views = due_follow_ups(ctx.db, principal, day=shown)
    stations = station_names(ctx.db, views)
    return render(
        ctx,
        "tracing/follow_ups.html",
        views=views,
        stations=stations,
        several_stations=len(stations) > 1,
        day=shown,
        today=today,
        done=done,
        missed=sum(1 for v in views if v.missed_days),
        pending=sum(1 for v in views if v.follow_up.status == "due"),
    )


@router.post("/tracing/follow-ups/{follow_up_id}")
def record_form(
    follow_up_id: int,
    ctx: CtxDep,
    result: Annotated[str, Form(pattern="^(well|symptoms|unreached)$")],
    temperature: Annotated[str, Form(max_length=6)] = "",
    note: Annotated[str, Form(max_length=300)] = "",
    csrf_token: CsrfForm = "",
) -> Response:
    ctx.require_principal()
    check_csrf(ctx, csrf_token)
    reached, symptoms = RESULTS[result]
    row: FollowUp = record_follow_up(
        ctx.db,
        ctx.actor,
        follow_up_id,
        reached=reached,
        symptoms=symptoms,
        # Nobody took a temperature of someone they could not reach; ignore a stray entry.
        temperature=_temperature(temperature) if reached else None,
        note=note,
        now=ctx.now,
    )
    return RedirectResponse(_back(row.day, local_day(ctx.now), row.id), status_code=303)


def _back(day: date, today: date, follow_up_id: int) -> str:
    query = f"done={follow_up_id}" + ("" if day == today else f"&day={day.isoformat()}")
    return f"/tracing/follow-ups?{query}#fu-{follow_up_id}"
