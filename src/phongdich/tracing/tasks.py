"""Tracing work run by the worker: the F1-list export as a background job with progress, and
the daily job that marks follow-ups nobody recorded as missed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from phongdich.audit.service import Actor
from phongdich.auth.policy import require_somewhere
from phongdich.core.clock import local_day
from phongdich.core.errors import Forbidden
from phongdich.jobs.queries import requester
from phongdich.jobs.registry import PeriodicJob
from phongdich.jobs.runner import enqueue
from phongdich.models import BackgroundJob, Case, Contact, FollowUp
from phongdich.tracing.export import build_f1_export
from phongdich.tracing.queries import load_case

EXPORT_KIND = "tracing.f1_export"


def queue_f1_export(
    session: Session, actor: Actor, *, case_id: int | None, now: datetime
) -> BackgroundJob:
    """Check access now, then queue the export for the worker."""
    principal = actor.principal
    if principal is None or principal.user_id is None:
        raise Forbidden()
    if case_id is not None:
        load_case(session, principal, case_id)
    else:
        require_somewhere(principal, "case.read")
    params = {"case_id": case_id, "user_id": principal.user_id}
    return enqueue(session, EXPORT_KIND, params, now=now, user_id=principal.user_id)


def run_f1_export(
    session: Session,
    params: dict[str, Any],
    now: datetime,
    progress: Callable[[int, int | None], None],
) -> dict[str, Any]:
    """The job: rebuild the requester's rights (as they are now), count, write, store."""
    principal = requester(session, params)
    case_id = params.get("case_id")
    count_query = select(func.count()).select_from(Contact)
    if case_id is not None:
        count_query = count_query.where(Contact.case_id == case_id)
    total = session.scalar(count_query) or 0
    progress(0, total)
    export = build_f1_export(
        session,
        principal,
        case_id=case_id,
        now=now,
        progress=lambda done: progress(done, max(total, done)),
    )
    return {"download_url": f"/tracing/exports/{export.id}", "rows": export.rows}


def mark_missed_follow_ups(session: Session, now: datetime) -> dict[str, Any]:
    """Follow-ups of days already over that nobody recorded become missed; those of contacts
    who have since become cases stop (they are followed as cases now, not missed as contacts)."""
    from_their_case = (
        select(Contact.id)
        .join(Case, Case.id == Contact.became_case_id)
        .where(Contact.id == FollowUp.contact_id, FollowUp.day >= Case.confirmed_on)
    )
    stopped = session.execute(
        update(FollowUp)
        .where(FollowUp.status == "due", exists(from_their_case))
        .values(status="stopped")
    )
    result = session.execute(
        update(FollowUp)
        .where(FollowUp.status == "due", FollowUp.day < local_day(now))
        .values(status="missed")
    )
    released = session.execute(
        update(Contact)
        .where(Contact.status == "quarantined", Contact.quarantine_end < local_day(now))
        .values(status="released")
    )
    return {
        "missed": result.rowcount,  # type: ignore[attr-defined]
        "stopped": stopped.rowcount,  # type: ignore[attr-defined]
        "released": released.rowcount,  # type: ignore[attr-defined]
        "cases": session.scalar(select(func.count()).select_from(Case)) or 0,
    }


PERIODIC = [
    PeriodicJob(
        name="tracing.follow_ups",
        every=timedelta(hours=1),
        run=mark_missed_follow_ups,
        description="Đánh dấu lịch theo dõi F1 quá hạn chưa ghi nhận; kết thúc cách ly đã hết hạn.",
    )
]
HANDLERS = {EXPORT_KIND: run_f1_export}
