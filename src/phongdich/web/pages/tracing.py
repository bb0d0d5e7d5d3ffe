"""Tracing pages for health officers: cases, the case page (timeline, venues, candidates with
their explanations, contacts, the chain-of-transmission picture, the outcome), counts and
common sources. The station's daily follow-up page is `tracing_follow_ups`."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy import select

from phongdich.auth.policy import areas_for, require_somewhere
from phongdich.core.clock import local_day
from phongdich.core.errors import AppError
from phongdich.core.i18n import N_
from phongdich.models import Area, Person, User
from phongdich.people.service import get_person, search_people
from phongdich.tracing.contacts import (
    compute_f2,
    contact_becomes_case,
    contacts_of,
    decide,
    load_contact,
)
from phongdich.tracing.graph import chain_graph, render_svg
from phongdich.tracing.insights import area_counts, find_common_sources
from phongdich.tracing.outcomes import set_outcome
from phongdich.tracing.queries import communes_managed, load_case, visible_cases
from phongdich.tracing.service import (
    candidates_of,
    compute_candidates,
    log_history_look_up,
    people_by_id,
    register_case,
)
from phongdich.tracing.tasks import queue_f1_export
from phongdich.tracing.timeline import approve_timeline, draft_timeline, timeline_of
from phongdich.tracing.warnings import CHECKLIST, alert_venues, alerts_by_case, notices_by_contact
from phongdich.venues.queries import area_names
from phongdich.web.context import Ctx, CtxDep, check_csrf
from phongdich.web.templating import env, render

router = APIRouter()
CsrfForm = Annotated[str, Form(max_length=100)]
DateForm = Annotated[str, Form(max_length=10)]

CATEGORY_LABELS = {
    "f1_likely": N_("Nhiều khả năng F1"),
    "f1_candidate": N_("Có thể là F1"),
    "same_venue_same_day": N_("Cùng địa điểm, cùng ngày"),
}
CLASSIFICATION_LABELS = {
    "community": N_("Phát hiện tại cộng đồng"),
    "in_quarantine": N_("Phát hiện trong khu cách ly"),
    "imported": N_("Từ nơi khác đến"),
}
END_RULES = {
    "explicit": N_("bấm ra về"),
    "next_checkin": N_("khai báo ở nơi khác"),
    "default_stay": N_("thời gian lưu lại thường lệ"),
    "end_of_day_cap": N_("hết ngày"),
}
STATUS_LABELS = {
    "proposed": N_("Chờ xác nhận"),
    "confirmed": N_("Đã xác nhận"),
    "rejected": N_("Đã loại"),
    "quarantined": N_("Đang cách ly"),
    "became_case": N_("Đã thành F0"),
    "released": N_("Hết cách ly"),
    "draft": N_("Bản nháp"),
    "published": N_("Đã công bố"),
    "active": N_("Đang điều trị"),
    "recovered": N_("Khỏi bệnh"),
    "died": N_("Tử vong"),
}
env.globals["category_label"] = lambda c: CATEGORY_LABELS.get(c, c)
env.globals["classification_label"] = lambda c: CLASSIFICATION_LABELS.get(c, c)
env.globals["tracing_end_rule"] = lambda r: END_RULES.get(r, r)
env.globals["tracing_status"] = lambda s: STATUS_LABELS.get(s, s)
env.globals["checklist_label"] = lambda k: CHECKLIST.get(k, k)
env.filters["iso_dt"] = lambda s: datetime.fromisoformat(s) if isinstance(s, str) else s


def parse_day(value: str, *, required: bool = False) -> date | None:
    value = value.strip()
    if not value:
        if required:
            raise AppError("date.required", "Vui lòng nhập ngày.")
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise AppError("date.invalid", "Ngày không hợp lệ (dd/mm/yyyy).", {"value": value})


@router.get("/tracing/cases", response_class=HTMLResponse)
def cases_page(ctx: CtxDep, q: Annotated[str, Query(max_length=60)] = "") -> HTMLResponse:
    principal = ctx.require_principal()
    require_somewhere(principal, "case.read")
    cases = visible_cases(ctx.db, principal)
    people = people_by_id(ctx.db, [c.person_id for c in cases])
    found = search_people(ctx.db, principal, q) if q.strip() else []
    # Someone without a commune address is registered in a commune the officer chooses.
    communes = (
        area_names(ctx.db, communes_managed(ctx.db, principal))
        if any(p.area_id is None for p in found)
        else {}
    )
    return render(
        ctx, "tracing/cases.html", cases=cases, people=people, q=q, found=found,
        today=local_day(ctx.now), communes=communes,
    )  # fmt: skip


@router.post("/tracing/cases")
def register_case_form(
    ctx: CtxDep,
    person_id: Annotated[int, Form()],
    confirmed_on: DateForm,
    sample_on: DateForm = "",
    onset_on: DateForm = "",
    isolated_on: DateForm = "",
    classification: Annotated[str, Form(max_length=20)] = "community",
    area_id: Annotated[int | None, Form()] = None,
    csrf_token: CsrfForm = "",
) -> Response:
    ctx.require_principal()
    check_csrf(ctx, csrf_token)
    case = register_case(
        ctx.db,
        ctx.actor,
        person=get_person(ctx.db, person_id),
        confirmed_on=parse_day(confirmed_on, required=True) or local_day(ctx.now),
        sample_on=parse_day(sample_on),
        onset_on=parse_day(onset_on),
        isolated_on=parse_day(isolated_on),
        classification=classification,
        area=ctx.db.get(Area, area_id) if area_id is not None else None,
        now=ctx.now,
    )
    return RedirectResponse(f"/tracing/cases/{case.id}", status_code=303)


@router.get("/tracing/cases/{case_id}", response_class=HTMLResponse)
def case_page(
    case_id: int, ctx: CtxDep, done: Annotated[str, Query(max_length=20)] = ""
) -> HTMLResponse:
    case, area = load_case(ctx.db, ctx.require_principal(), case_id)
    person = ctx.db.get(Person, case.person_id)
    assert person is not None
    # The page shows the case's movements: a look-up of their history, for this case, logged.
    log_history_look_up(
        ctx.db, ctx.actor, person, case, now=ctx.now, what="Xem mốc dịch tễ ca bệnh"
    )
    candidates = candidates_of(ctx.db, case)
    contacts = contacts_of(ctx.db, case)
    people = people_by_id(
        ctx.db, [c.person_id for c in candidates] + [c.person_id for c in contacts]
    )
    stations = list(
        ctx.db.scalars(
            select(Area).where(Area.id.in_({c.station_area_id for c in contacts} - {None}))
        )
    )
    users = dict(
        ctx.db.execute(
            select(User.id, User.full_name).where(User.id.in_(_user_ids(ctx, case)))
        ).all()
    )
    timeline = timeline_of(ctx.db, case)
    graph = render_svg(
        chain_graph(ctx.db, case), title=ctx.gettext("Sơ đồ lây nhiễm") + f" {case.code}"
    )
    return render(
        ctx,
        "tracing/case.html",
        case=case,
        area_name=area_names(ctx.db, [area]).get(area.id, area.name),
        person=person,
        timeline=timeline,
        candidates=candidates,
        contacts=contacts,
        people=people,
        stations=area_names(ctx.db, stations),
        alerts=alerts_by_case(ctx.db, case),
        notices=notices_by_contact(ctx.db, [c.id for c in contacts]),
        users=users,
        graph=Markup(graph),  # noqa: S704  built from escaped text by tracing.graph
        done=done,
        me=ctx.principal.user_id if ctx.principal else None,
        today=local_day(ctx.now),
    )


def _user_ids(ctx: Ctx, case: object) -> set[int]:
    timeline = timeline_of(ctx.db, case)  # type: ignore[arg-type]
    if timeline is None:
        return set()
    return {u for u in (timeline.drafted_by_id, timeline.approved_by_id) if u is not None}


def _back(case_id: int, done: str) -> RedirectResponse:
    return RedirectResponse(f"/tracing/cases/{case_id}?done={done}", status_code=303)


@router.post("/tracing/cases/{case_id}/candidates")
def compute_form(case_id: int, ctx: CtxDep, csrf_token: CsrfForm = "") -> Response:
    check_csrf(ctx, csrf_token)
    case, _area = load_case(ctx.db, ctx.require_principal(), case_id, "case.manage")
    compute_candidates(ctx.db, ctx.actor, case, now=ctx.now)
    return _back(case_id, "computed")


@router.post("/tracing/cases/{case_id}/decisions")
def decide_form(
    case_id: int,
    ctx: CtxDep,
    decision: Annotated[str, Form(pattern="^(confirmed|rejected)$")],
    candidate_id: Annotated[list[int], Form()] = [],  # noqa: B006  FastAPI form default
    csrf_token: CsrfForm = "",
) -> Response:
    check_csrf(ctx, csrf_token)
    load_case(ctx.db, ctx.require_principal(), case_id, "case.manage")
    if not candidate_id:
        raise AppError("candidate.selection_invalid", "Chọn ít nhất một người.")
    decide(ctx.db, ctx.actor, candidate_id, decision, now=ctx.now,
           sms=ctx.request.app.state.sms_sender)  # fmt: skip
    return _back(case_id, decision)


@router.post("/tracing/cases/{case_id}/outcome")
def outcome_form(
    case_id: int,
    ctx: CtxDep,
    outcome: Annotated[str, Form(pattern="^(recovered|died|active)$")],
    on: DateForm = "",
    correction: Annotated[bool, Form()] = False,
    reason: Annotated[str, Form(max_length=300)] = "",
    csrf_token: CsrfForm = "",
) -> Response:
    check_csrf(ctx, csrf_token)
    case, _area = load_case(ctx.db, ctx.require_principal(), case_id, "case.manage")
    set_outcome(ctx.db, ctx.actor, case, outcome, on=parse_day(on), now=ctx.now,
                correction=correction, reason=reason)  # fmt: skip
    return _back(case_id, "outcome")


@router.post("/tracing/contacts/{contact_id}/f2")
def f2_form(contact_id: int, ctx: CtxDep, csrf_token: CsrfForm = "") -> Response:
    check_csrf(ctx, csrf_token)
    contact, case = load_contact(ctx.db, ctx.actor, contact_id, "case.manage")
    compute_f2(ctx.db, ctx.actor, contact, now=ctx.now)
    return _back(case.id, "f2")


@router.post("/tracing/contacts/{contact_id}/case")
def becomes_case_form(
    contact_id: int, ctx: CtxDep, confirmed_on: DateForm = "", csrf_token: CsrfForm = ""
) -> Response:
    check_csrf(ctx, csrf_token)
    contact, _case = load_contact(ctx.db, ctx.actor, contact_id, "case.manage")
    new = contact_becomes_case(
        ctx.db, ctx.actor, contact, now=ctx.now,
        confirmed_on=parse_day(confirmed_on) or local_day(ctx.now),
    )  # fmt: skip
    return RedirectResponse(f"/tracing/cases/{new.id}", status_code=303)


@router.post("/tracing/cases/{case_id}/alerts")
def alerts_form(case_id: int, ctx: CtxDep, csrf_token: CsrfForm = "") -> Response:
    check_csrf(ctx, csrf_token)
    case, _area = load_case(ctx.db, ctx.require_principal(), case_id, "case.manage")
    alert_venues(ctx.db, ctx.actor, case, now=ctx.now, sms=ctx.request.app.state.sms_sender)
    return _back(case_id, "alerted")


@router.post("/tracing/cases/{case_id}/timeline")
def timeline_form(
    case_id: int,
    ctx: CtxDep,
    action: Annotated[str, Form(pattern="^(redraft|approve)$")],
    csrf_token: CsrfForm = "",
) -> Response:
    check_csrf(ctx, csrf_token)
    case, _area = load_case(ctx.db, ctx.require_principal(), case_id, "case.manage")
    if action == "approve":
        approve_timeline(ctx.db, ctx.actor, case, now=ctx.now)
    else:
        draft_timeline(ctx.db, ctx.actor, case, now=ctx.now)
    return _back(case_id, action)


@router.post("/tracing/exports")
def export_form(
    ctx: CtxDep,
    case_id: Annotated[int | None, Form()] = None,
    csrf_token: CsrfForm = "",
) -> Response:
    check_csrf(ctx, csrf_token)
    job = queue_f1_export(ctx.db, ctx.actor, case_id=case_id, now=ctx.now)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


@router.get("/tracing/cases/{case_id}/graph.svg")
def graph_svg(case_id: int, ctx: CtxDep) -> Response:
    case, _area = load_case(ctx.db, ctx.require_principal(), case_id)
    svg = render_svg(chain_graph(ctx.db, case), title=case.code)
    return Response(svg, media_type="image/svg+xml")


@router.get("/tracing/counts", response_class=HTMLResponse)
def counts_page(
    ctx: CtxDep,
    area: Annotated[int | None, Query()] = None,
    date_from: Annotated[str, Query(alias="from", max_length=10)] = "",
    date_to: Annotated[str, Query(alias="to", max_length=10)] = "",
) -> HTMLResponse:
    principal = ctx.require_principal()
    require_somewhere(principal, "case.read")
    today = local_day(ctx.now)
    refs = areas_for(principal, "case.read")
    if area is not None:
        within = ctx.db.get(Area, area)
    elif refs:
        within = ctx.db.get(Area, refs[0].id)
    else:
        within = ctx.db.scalar(select(Area).where(Area.level == "province").order_by(Area.id))
    if within is None:
        raise AppError("area.unknown", "Không tìm thấy địa bàn.")
    report = area_counts(
        ctx.db, principal, within,
        date_from=parse_day(date_from) or today - timedelta(days=13),
        date_to=parse_day(date_to) or today, today=today,
    )  # fmt: skip
    return render(ctx, "tracing/counts.html", report=report)


@router.get("/tracing/common-sources", response_class=HTMLResponse)
def common_sources_page(ctx: CtxDep, days: Annotated[int, Query(ge=1, le=60)] = 14) -> HTMLResponse:
    principal = ctx.require_principal()
    found = find_common_sources(ctx.db, principal, now=ctx.now, days=days)
    return render(ctx, "tracing/common_sources.html", found=found, days=days)
