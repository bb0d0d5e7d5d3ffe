"""How a case ends: recovered or died, on a day, set by a health officer of the case's area.

An outcome is set once. Changing it afterwards (another outcome, another day, or back to
active when it was entered by mistake) is an explicit correction with a reason, audited apart,
so the counts of recovered and dead never shift without a trace.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from phongdich.audit.service import Actor, record
from phongdich.auth.policy import require
from phongdich.core.clock import format_date, local_day
from phongdich.core.errors import AppError, Conflict
from phongdich.models import Area, Case
from phongdich.tracing.queries import case_target

ACTIVE, RECOVERED, DIED = "active", "recovered", "died"
OUTCOMES = (RECOVERED, DIED)


def _check_day(case_obj: Case, on: date | None, now: datetime) -> date:
    if on is None:
        raise AppError("case.outcome_date_required", "Vui lòng nhập ngày khỏi bệnh hoặc tử vong.")
    if on < case_obj.confirmed_on:
        raise AppError(
            "case.outcome_before_confirmation",
            "Ngày khỏi bệnh hoặc tử vong không được trước ngày xác định ca bệnh ({shown}).",
            {
                "confirmed_on": case_obj.confirmed_on.isoformat(),
                "shown": format_date(case_obj.confirmed_on),
            },
        )
    if on > local_day(now):
        raise AppError(
            "case.outcome_in_future", "Ngày khỏi bệnh hoặc tử vong không được ở tương lai."
        )
    return on


def set_outcome(
    session: Session,
    actor: Actor,
    case_obj: Case,
    outcome: str,
    *,
    on: date | None,
    now: datetime,
    correction: bool = False,
    reason: str = "",
) -> Case:
    """Record that the case recovered or died on a day; with `correction`, change an outcome
    already recorded (or withdraw it: `outcome="active"`), giving the reason."""
    area = session.get(Area, case_obj.area_id)
    assert area is not None
    require(actor.principal, "case.manage", case_target(area, case_obj))
    if outcome not in OUTCOMES and not (correction and outcome == ACTIVE):
        raise AppError(
            "case.outcome_invalid", "Kết quả điều trị không hợp lệ.", {"outcome": outcome}
        )
    day = None if outcome == ACTIVE else _check_day(case_obj, on, now)
    before = {"status": case_obj.status, "outcome_on": _iso(case_obj.outcome_on)}
    after = {"status": outcome, "outcome_on": _iso(day)}
    reason = reason.strip()[:300]
    if correction:
        if case_obj.status == ACTIVE:
            raise AppError(
                "case.no_outcome_to_correct", "Ca bệnh chưa có kết quả điều trị để đính chính."
            )
        if not reason:
            raise AppError("case.correction_reason_required", "Vui lòng ghi lý do đính chính.")
        if outcome == ACTIVE:
            _check_no_other_active(session, case_obj)
    elif case_obj.status != ACTIVE:
        if before == after:
            return case_obj  # the same outcome again (a retried request): nothing changes
        raise Conflict(
            "case.outcome_already_set",
            "Ca bệnh đã có kết quả điều trị. Muốn thay đổi, hãy chọn đính chính và ghi lý do.",
            before,
        )
    case_obj.status, case_obj.outcome_on = outcome, day
    record(
        session,
        actor,
        "case.outcome.correct" if correction else "case.outcome.set",
        now=now,
        object_type="case",
        object_id=case_obj.id,
        area_id=case_obj.area_id,
        details={"code": case_obj.code, "from": before, "to": after, "reason": reason or None},
    )
    session.flush()
    return case_obj


def _check_no_other_active(session: Session, case_obj: Case) -> None:
    """Withdrawing an outcome makes the case active again, and a person has one active case."""
    other = session.scalar(
        select(Case.code).where(
            Case.person_id == case_obj.person_id, Case.status == ACTIVE, Case.id != case_obj.id
        )
    )
    if other is not None:
        raise Conflict("case.already_active", "Người này đang là ca bệnh.", {"case": other})


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
