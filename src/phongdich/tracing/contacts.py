"""Decisions on candidates, and what a confirmed contact gets: quarantine from the dated rule,
a daily follow-up schedule for the commune health station of their address, a notice; then F2
(contacts of an F1 between the F1's exposure and quarantine) and "becomes a case".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from phongdich.audit.service import Actor, record
from phongdich.core.clock import local_day
from phongdich.core.errors import AppError, NotFound
from phongdich.messaging.sms import SmsSender
from phongdich.models import Case, Contact, ExposureCandidate, FollowUp, Person
from phongdich.tracing.queries import load_case
from phongdich.tracing.rules import (
    F2_MONITORING_VERSION,
    QuarantineRule,
    exposure_rules_on,
    quarantine_rule_on,
)
from phongdich.tracing.service import (
    CONFIRMED,
    PROPOSED,
    REJECTED,
    find_for,
    log_history_look_up,
    register_case,
    store_candidates,
)

DECISIONS = (CONFIRMED, REJECTED)
MAX_BULK = 500


def fully_vaccinated_on(session: Session, person: Person, day: date) -> bool | None:
    """Hook for the vaccination records: True when the person counts as fully vaccinated on the
    day under the dated rule. Until vaccination exists nothing is known (None), so the full
    quarantine applies; the vaccination issue replaces this body, not its callers."""
    return None


def quarantine_period(
    rule: QuarantineRule, *, last_exposure: date, starts: date, fully_vaccinated: bool | None
) -> tuple[date, date, str]:
    """(start, end, place): counted from the last exposure, shortened for the fully vaccinated
    where the rule allows it, never ending before it starts."""
    days = rule.days
    place = "facility" if rule.place == "facility" else rule.place
    if fully_vaccinated and rule.days_if_fully_vaccinated is not None:
        days = rule.days_if_fully_vaccinated
    end = last_exposure + timedelta(days=days)
    return starts, max(end, starts), place


def _follow_ups(session: Session, contact: Contact) -> None:
    day = contact.quarantine_start
    while day <= contact.quarantine_end:
        session.add(
            FollowUp(
                contact_id=contact.id,
                station_area_id=contact.station_area_id,
                day=day,
                status="due",
            )
        )
        day += timedelta(days=1)


def confirm_contact(
    session: Session,
    actor: Actor,
    candidate: ExposureCandidate,
    case_obj: Case,
    *,
    now: datetime,
    sms: SmsSender | None,
) -> Contact:
    """Make a candidate a contact (F1, or F2 for a generation-2 candidate): quarantine from the
    rule in force on the last exposure day, follow-ups for their commune's health station, and a
    notice to them."""
    existing = session.scalar(
        select(Contact).where(
            Contact.case_id == case_obj.id, Contact.person_id == candidate.person_id
        )
    )
    if existing is not None:
        return existing
    person = session.get(Person, candidate.person_id)
    assert person is not None
    exposure_from = candidate.first_exposure_at or case_obj.window_start
    exposure_to = candidate.last_exposure_at or min(case_obj.window_end, now)
    today = local_day(now)
    source: Contact | None = None
    if candidate.generation == 1:
        rule = quarantine_rule_on(local_day(exposure_to))
        start, end, place = quarantine_period(
            rule,
            last_exposure=local_day(exposure_to),
            starts=today,
            fully_vaccinated=fully_vaccinated_on(session, person, today),
        )
        version = rule.version
    else:
        source = session.get(Contact, candidate.source_contact_id)
        assert source is not None
        start, end, place = today, max(today, source.quarantine_end), "home_monitoring"
        version = F2_MONITORING_VERSION
    contact = Contact(
        case_id=case_obj.id,
        person_id=person.id,
        generation=candidate.generation,
        source_contact_id=source.id if source else None,
        exposure_from=exposure_from,
        exposure_to=exposure_to,
        quarantine_start=start,
        quarantine_end=end,
        quarantine_place=place,
        quarantine_rule_version=version,
        # The commune health station of their address follows them up; without a known
        # address, the commune managing the case does.
        station_area_id=person.area_id or case_obj.area_id,
        status="quarantined",
        confirmed_at=now,
        confirmed_by_id=actor.principal.user_id if actor.principal else None,
    )
    session.add(contact)
    session.flush()
    _follow_ups(session, contact)
    from phongdich.tracing.warnings import notify_contact

    notify_contact(session, contact, person, candidate, now=now, sms=sms)
    return contact


def decide(
    session: Session,
    actor: Actor,
    candidate_ids: Sequence[int],
    decision: str,
    *,
    now: datetime,
    sms: SmsSender | None = None,
    note: str | None = None,
) -> list[ExposureCandidate]:
    """Confirm or reject candidates, one or many at once; each decision is audited. Confirmed
    ones become contacts. Only officers who may manage the candidates' cases decide."""
    if decision not in DECISIONS:
        raise AppError("candidate.decision_invalid", "Quyết định không hợp lệ.")
    ids = list(dict.fromkeys(candidate_ids))
    if not ids or len(ids) > MAX_BULK:
        raise AppError(
            "candidate.selection_invalid",
            "Chọn từ 1 đến {max} người để xác nhận hoặc loại.",
            {"max": MAX_BULK, "selected": len(ids)},
        )
    rows = list(session.scalars(select(ExposureCandidate).where(ExposureCandidate.id.in_(ids))))
    if len(rows) != len(ids):
        raise NotFound("candidate.not_found", "Không tìm thấy người trong danh sách.")
    cases: dict[int, Case] = {}
    for case_id in {r.case_id for r in rows}:
        cases[case_id], _area = load_case(session, actor.principal, case_id, "case.manage")
    for row in rows:
        if row.status != PROPOSED and row.status != decision:
            raise AppError(
                "candidate.already_decided",
                "Người này đã được quyết định trước đó; không thể đổi trong thao tác hàng loạt.",
                {"candidate_id": row.id, "status": row.status},
            )
    for row in rows:
        if row.status == decision:
            continue
        row.status, row.decided_by_id, row.decided_at = (
            decision,
            actor.principal.user_id if actor.principal else None,
            now,
        )
        row.decision_note = (note or "").strip()[:300] or None
        contact_id = None
        if decision == CONFIRMED:
            contact_id = confirm_contact(
                session, actor, row, cases[row.case_id], now=now, sms=sms
            ).id
        record(
            session,
            actor,
            f"candidate.{'confirm' if decision == CONFIRMED else 'reject'}",
            now=now,
            object_type="exposure_candidate",
            object_id=row.id,
            area_id=cases[row.case_id].area_id,
            details={
                "case_id": row.case_id,
                "person_id": row.person_id,
                "generation": row.generation,
                "category": row.category,
                "contact_id": contact_id,
                "bulk": len(rows) > 1,
            },
        )
    session.flush()
    return rows


def load_contact(
    session: Session, actor: Actor, contact_id: int, action: str = "case.read"
) -> tuple[Contact, Case]:
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound("contact.not_found", "Không tìm thấy người tiếp xúc.")
    case_obj, _area = load_case(session, actor.principal, contact.case_id, action)
    return contact, case_obj


def compute_f2(
    session: Session, actor: Actor, contact: Contact, *, now: datetime
) -> list[ExposureCandidate]:
    """F2 candidates: people who shared a venue with a confirmed F1 between the F1's own
    exposure and the F1's quarantine (when they were confirmed), explained like F1s."""
    case_obj, area = load_case(session, actor.principal, contact.case_id, "case.manage")
    if contact.generation != 1:
        raise AppError("contact.not_f1", "Chỉ tìm F2 từ người tiếp xúc gần (F1).")
    person = session.get(Person, contact.person_id)
    assert person is not None
    log_history_look_up(session, actor, person, case_obj, now=now, what="Truy vết F2 của ca bệnh")
    window = (contact.exposure_from, contact.confirmed_at)
    rules = exposure_rules_on(case_obj.confirmed_on)
    found = find_for(session, person, window, rules)
    # Contacts of the case, and people still on (or confirmed from) its F1 list, are decided
    # there; an F1 candidate rejected as such can still be an F2.
    already = set(session.scalars(select(Contact.person_id).where(Contact.case_id == case_obj.id)))
    already |= set(
        session.scalars(
            select(ExposureCandidate.person_id).where(
                ExposureCandidate.case_id == case_obj.id,
                ExposureCandidate.generation == 1,
                ExposureCandidate.status != REJECTED,
            )
        )
    )
    stored = store_candidates(
        session,
        case_obj,
        found,
        window,
        now=now,
        generation=2,
        source_contact=contact,
        skip_people=already | {case_obj.person_id},
    )
    contact.f2_computed_at = now
    record(
        session,
        actor,
        "contact.f2.compute",
        now=now,
        object_type="contact",
        object_id=contact.id,
        area_id=area.id,
        details={"case_id": case_obj.id, "found": len(stored), "rules_version": rules.version},
    )
    session.flush()
    return stored


def contact_becomes_case(
    session: Session,
    actor: Actor,
    contact: Contact,
    *,
    confirmed_on: date,
    now: datetime,
    sample_on: date | None = None,
    onset_on: date | None = None,
) -> Case:
    """A contact tests positive: register the case in one step (found in quarantine)."""
    load_case(session, actor.principal, contact.case_id, "case.manage")
    person = session.get(Person, contact.person_id)
    assert person is not None
    return register_case(
        session,
        actor,
        person=person,
        confirmed_on=confirmed_on,
        sample_on=sample_on,
        onset_on=onset_on,
        isolated_on=contact.quarantine_start,
        classification="in_quarantine",
        now=now,
    )


def contacts_of(session: Session, case_obj: Case) -> list[Contact]:
    return list(
        session.scalars(
            select(Contact)
            .where(Contact.case_id == case_obj.id)
            .order_by(Contact.generation, Contact.id)
        )
    )
