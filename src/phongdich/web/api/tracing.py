"""Tracing over the API: cases and their outcomes, candidates and decisions, contacts, F2, the
stations' daily follow-up, alerts, the mốc dịch tễ, and the F1-list export job. Only health
officers of the case's area (or, for follow-up, of the station's) see any of it."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request

from phongdich.auth.policy import require_somewhere
from phongdich.core.clock import local_day
from phongdich.messaging.sms import SmsSender
from phongdich.people.service import get_person
from phongdich.tracing.contacts import (
    compute_f2,
    contact_becomes_case,
    contacts_of,
    decide,
    load_contact,
)
from phongdich.tracing.follow_ups import due_follow_ups, record_follow_up, station_names
from phongdich.tracing.outcomes import set_outcome
from phongdich.tracing.queries import load_case, visible_cases
from phongdich.tracing.schemas import (
    AlertRead,
    BecomeCase,
    CandidateRead,
    CaseCreate,
    CaseRead,
    ContactRead,
    DecisionRequest,
    DueFollowUp,
    ExportRequest,
    FollowUpRead,
    FollowUpRecord,
    JobQueued,
    OutcomeRequest,
    TimelineRead,
)
from phongdich.tracing.service import candidates_of, compute_candidates, register_case
from phongdich.tracing.tasks import queue_f1_export
from phongdich.tracing.timeline import approve_timeline, timeline_of
from phongdich.tracing.warnings import alert_venues
from phongdich.web.api.common import api_write
from phongdich.web.context import Ctx, CtxDep

router = APIRouter(prefix="/tracing", tags=["tracing"])


def _sms(ctx: Ctx) -> SmsSender:
    sender: SmsSender = ctx.request.app.state.sms_sender
    return sender


@router.post("/cases", summary="Đăng ký ca bệnh (F0) và tính khung thời gian lây nhiễm")
def create_case(body: CaseCreate, ctx: CtxDep, request: Request) -> CaseRead:
    api_write(ctx, request)
    ctx.require_principal()
    case = register_case(
        ctx.db,
        ctx.actor,
        person=get_person(ctx.db, body.person_id),
        confirmed_on=body.confirmed_on,
        sample_on=body.sample_on,
        onset_on=body.onset_on,
        isolated_on=body.isolated_on,
        classification=body.classification,
        note=body.note,
        now=ctx.now,
    )
    return CaseRead.model_validate(case)


@router.get("/cases", summary="Các ca bệnh trong địa bàn")
def list_cases(ctx: CtxDep) -> list[CaseRead]:
    principal = ctx.require_principal()
    require_somewhere(principal, "case.read")
    return [CaseRead.model_validate(c) for c in visible_cases(ctx.db, principal)]


@router.get("/cases/{case_id}", summary="Một ca bệnh")
def read_case(case_id: int, ctx: CtxDep) -> CaseRead:
    case, _area = load_case(ctx.db, ctx.require_principal(), case_id)
    return CaseRead.model_validate(case)


@router.post(
    "/cases/{case_id}/outcome", summary="Ghi nhận khỏi bệnh hoặc tử vong (hoặc đính chính)"
)
def outcome(case_id: int, body: OutcomeRequest, ctx: CtxDep, request: Request) -> CaseRead:
    api_write(ctx, request)
    case, _area = load_case(ctx.db, ctx.require_principal(), case_id, "case.manage")
    set_outcome(
        ctx.db,
        ctx.actor,
        case,
        body.outcome,
        on=body.on,
        now=ctx.now,
        correction=body.correction,
        reason=body.reason,
    )
    return CaseRead.model_validate(case)


@router.post("/cases/{case_id}/candidates", summary="Tìm người có thể là F1 từ lượt khai báo")
def compute(case_id: int, ctx: CtxDep, request: Request) -> list[CandidateRead]:
    api_write(ctx, request)
    case, _area = load_case(ctx.db, ctx.require_principal(), case_id, "case.manage")
    compute_candidates(ctx.db, ctx.actor, case, now=ctx.now)
    return [CandidateRead.model_validate(c) for c in candidates_of(ctx.db, case)]


@router.get("/cases/{case_id}/candidates", summary="Danh sách người có thể là F1/F2, có giải thích")
def list_candidates(
    case_id: int, ctx: CtxDep, generation: Annotated[int | None, Query(ge=1, le=2)] = None
) -> list[CandidateRead]:
    case, _area = load_case(ctx.db, ctx.require_principal(), case_id)
    return [
        CandidateRead.model_validate(c) for c in candidates_of(ctx.db, case, generation=generation)
    ]


@router.post("/candidates/decisions", summary="Xác nhận hoặc loại, từng người hoặc hàng loạt")
def decisions(body: DecisionRequest, ctx: CtxDep, request: Request) -> list[CandidateRead]:
    api_write(ctx, request)
    ctx.require_principal()
    rows = decide(
        ctx.db,
        ctx.actor,
        body.candidate_ids,
        body.decision,
        now=ctx.now,
        sms=_sms(ctx),
        note=body.note,
    )
    return [CandidateRead.model_validate(c) for c in rows]


@router.get("/cases/{case_id}/contacts", summary="Danh sách F1, F2 đã xác nhận")
def list_contacts(case_id: int, ctx: CtxDep) -> list[ContactRead]:
    case, _area = load_case(ctx.db, ctx.require_principal(), case_id)
    return [ContactRead.model_validate(c) for c in contacts_of(ctx.db, case)]


@router.post("/contacts/{contact_id}/f2", summary="Tìm F2 của một F1")
def f2(contact_id: int, ctx: CtxDep, request: Request) -> list[CandidateRead]:
    api_write(ctx, request)
    contact, _case = load_contact(ctx.db, ctx.actor, contact_id, "case.manage")
    return [
        CandidateRead.model_validate(c) for c in compute_f2(ctx.db, ctx.actor, contact, now=ctx.now)
    ]


@router.post("/contacts/{contact_id}/case", summary="F1 trở thành ca bệnh")
def becomes_case(contact_id: int, body: BecomeCase, ctx: CtxDep, request: Request) -> CaseRead:
    api_write(ctx, request)
    contact, _case = load_contact(ctx.db, ctx.actor, contact_id, "case.manage")
    new = contact_becomes_case(
        ctx.db,
        ctx.actor,
        contact,
        confirmed_on=body.confirmed_on,
        sample_on=body.sample_on,
        onset_on=body.onset_on,
        now=ctx.now,
    )
    return CaseRead.model_validate(new)


@router.get("/follow-ups", summary="Lịch theo dõi F1, F2 trong ngày của trạm y tế")
def follow_ups(ctx: CtxDep, day: Annotated[date | None, Query()] = None) -> list[DueFollowUp]:
    views = due_follow_ups(ctx.db, ctx.require_principal(), day=day or local_day(ctx.now))
    names = station_names(ctx.db, views)
    return [
        DueFollowUp(
            follow_up=FollowUpRead.model_validate(v.follow_up),
            person_id=v.person.id,
            full_name=v.person.full_name,
            phone=v.person.phone,
            generation=v.contact.generation,
            quarantine_end=v.contact.quarantine_end,
            quarantine_place=v.contact.quarantine_place,
            station=names.get(v.station.id, v.station.name),
            missed_days=v.missed_days,
        )
        for v in views
    ]


@router.post(
    "/follow-ups/{follow_up_id}",
    summary="Ghi nhận một ngày theo dõi (ghi lại cùng ngày thì cập nhật bản ghi của ngày đó)",
)
def record(follow_up_id: int, body: FollowUpRecord, ctx: CtxDep, request: Request) -> FollowUpRead:
    api_write(ctx, request)
    ctx.require_principal()
    row = record_follow_up(
        ctx.db,
        ctx.actor,
        follow_up_id,
        reached=body.reached,
        symptoms=body.symptoms,
        temperature=body.temperature,
        note=body.note,
        now=ctx.now,
    )
    return FollowUpRead.model_validate(row)


@router.post("/cases/{case_id}/alerts", summary="Cảnh báo chủ các địa điểm ca bệnh đã đến")
def alerts(case_id: int, ctx: CtxDep, request: Request) -> list[AlertRead]:
    api_write(ctx, request)
    case, _area = load_case(ctx.db, ctx.require_principal(), case_id, "case.manage")
    return [
        AlertRead.model_validate(a)
        for a in alert_venues(ctx.db, ctx.actor, case, now=ctx.now, sms=_sms(ctx))
    ]


@router.get("/cases/{case_id}/timeline", summary="Mốc dịch tễ của ca bệnh")
def timeline(case_id: int, ctx: CtxDep) -> TimelineRead | None:
    case, _area = load_case(ctx.db, ctx.require_principal(), case_id)
    found = timeline_of(ctx.db, case)
    return TimelineRead.model_validate(found) if found else None


@router.post("/cases/{case_id}/timeline/approve", summary="Cán bộ thứ hai duyệt và công bố")
def approve(case_id: int, ctx: CtxDep, request: Request) -> TimelineRead:
    api_write(ctx, request)
    case, _area = load_case(ctx.db, ctx.require_principal(), case_id, "case.manage")
    return TimelineRead.model_validate(approve_timeline(ctx.db, ctx.actor, case, now=ctx.now))


@router.post("/exports", summary="Xuất danh sách F1 ra Excel (tác vụ nền)")
def export(body: ExportRequest, ctx: CtxDep, request: Request) -> JobQueued:
    api_write(ctx, request)
    job = queue_f1_export(ctx.db, ctx.actor, case_id=body.case_id, now=ctx.now)
    return JobQueued(job_id=job.id, status_url=f"/jobs/{job.id}")
