"""Warnings as their receivers see them: a venue owner's alerts (with the checklist), a
citizen's exposure notices, the published mốc dịch tễ, and the requester's export download."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from phongdich.models import Person, Venue
from phongdich.tracing.export import XLSX_TYPE, export_for
from phongdich.tracing.timeline import published_timelines
from phongdich.tracing.warnings import mark_notices_read, notices_for, owner_alerts, tick_alert
from phongdich.web.context import CtxDep, check_csrf
from phongdich.web.templating import render

router = APIRouter()
CsrfForm = Annotated[str, Form(max_length=100)]


@router.get("/me/venue-alerts", response_class=HTMLResponse)
def venue_alerts_page(ctx: CtxDep) -> HTMLResponse:
    principal = ctx.require_principal()
    alerts = owner_alerts(ctx.db, principal, principal.user_id)
    venues = {
        v.id: v
        for v in ctx.db.scalars(select(Venue).where(Venue.id.in_({a.venue_id for a in alerts})))
    }
    return render(ctx, "tracing/venue_alerts.html", alerts=alerts, venues=venues)


@router.post("/me/venue-alerts/{alert_id}")
def venue_alert_form(
    alert_id: int,
    ctx: CtxDep,
    done: Annotated[list[str], Form()] = [],  # noqa: B006  FastAPI form default
    csrf_token: CsrfForm = "",
) -> Response:
    ctx.require_principal()
    check_csrf(ctx, csrf_token)
    tick_alert(ctx.db, ctx.actor, alert_id, now=ctx.now, done_keys=set(done))
    return RedirectResponse("/me/venue-alerts", status_code=303)


@router.get("/me/notices", response_class=HTMLResponse)
def notices_page(ctx: CtxDep) -> HTMLResponse:
    user = ctx.require_user()
    notices = notices_for(ctx.db, user.id)
    names = dict(
        ctx.db.execute(
            select(Person.id, Person.full_name).where(Person.id.in_({n.person_id for n in notices}))
        ).all()
    )
    unread = {n.id for n in notices if n.read_at is None}
    mark_notices_read(ctx.db, user.id, now=ctx.now)
    return render(ctx, "tracing/notices.html", notices=notices, names=names, unread=unread)


@router.get("/moc-dich-te", response_class=HTMLResponse)
def published_page(ctx: CtxDep) -> HTMLResponse:
    return render(ctx, "tracing/published.html", rows=published_timelines(ctx.db))


@router.get("/tracing/exports/{export_id}")
def download_export(export_id: int, ctx: CtxDep) -> Response:
    export = export_for(ctx.db, ctx.require_principal(), export_id)
    return Response(
        export.content,
        media_type=XLSX_TYPE,
        headers={"content-disposition": f'attachment; filename="{export.filename}"'},
    )
