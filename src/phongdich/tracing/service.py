"""Cases and their exposure candidates: register a case (deriving its infectious window), compute
explained candidates from check-ins, and keep officers' decisions on them.

Confirming a candidate (quarantine, follow-up, notice) and F2 live in `tracing.contacts`; the
venue alerts and notices in `tracing.warnings`; the mốc dịch tễ in `tracing.timeline`.
Nothing here commits; every change is audited.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from phongdich.audit.service import Actor, record
from phongdich.auth.policy import require
from phongdich.checkins.history import look_up_history
from phongdich.core.clock import local_day
from phongdich.core.errors import AppError, Conflict
from phongdich.models import Area, Case, Contact, ExposureCandidate, Person, Venue
from phongdich.tracing.exposure import (
    Candidate,
    Category,
    Stay,
    case_exposure_interval,
    find_candidates,
    infectious_window,
    split_by_local_day,
)
from phongdich.tracing.queries import (
    SameDay,
    case_target,
    contact_reads,
    household_of,
    stays_of_person,
    stays_overlapping,
)
from phongdich.tracing.rules import ExposureRules, exposure_rules_on

CLASSIFICATIONS = ("community", "in_quarantine", "imported")
PROPOSED, CONFIRMED, REJECTED = "proposed", "confirmed", "rejected"


@dataclass(frozen=True)
class Found:
    """Candidates for one source person (a case, or an F1 for F2), with the stays behind them."""

    candidates: list[Candidate]
    sources: list[Stay]  # the source's qualifying stays
    others: list[Stay]  # everyone else's stays that can overlap the sources' exposure
    rules: ExposureRules
    same_day: SameDay  # who else was at a source's venue on its days (visits read on demand)


def find_for(
    session: Session,
    person: Person,
    window: tuple[datetime, datetime],
    rules: ExposureRules,
) -> Found:
    """Explained candidates for a person's stays in a window, read from the database: the
    person's visits (one index range); everyone else's visits that can overlap each stay's
    exposure (index ranges); the ids of everyone at those venues on those local days (index
    ranges); the household; then the pure co-presence rules."""
    stays = stays_of_person(session, person.id, window, rules)
    sources = [s for s in stays if s.end - s.start >= rules.min_case_stay]
    reads = contact_reads(sources, rules, window)
    others = stays_overlapping(session, reads, rules, exclude_person=person.id)
    same_day = SameDay(session, reads, rules, exclude_person=person.id)
    household = household_of(session, person)
    candidates = find_candidates(
        sources,
        others,
        rules,
        case_person_id=person.id,
        window=window,
        household=household,
        same_day_people=same_day.people,
    )
    return Found(candidates, sources, others, rules, same_day)


def tracing_purpose(case_obj: Case, what: str = "Truy vết ca bệnh") -> str:
    """The purpose logged for every movement-history look-up made for a case."""
    return f"{what} {case_obj.code} (F0)"


def log_history_look_up(
    session: Session, actor: Actor, person: Person, case_obj: Case, *, now: datetime, what: str
) -> None:
    """Log (through the check-ins' own look-up) that the person's movement history was read for
    this case; the person sees it on their page."""
    days = max(1, (now - case_obj.window_start).days + 2)
    look_up_history(
        session,
        actor,
        person,
        purpose=tracing_purpose(case_obj, what),
        case_ref=case_obj.code,
        now=now,
        days=min(days, 60),
    )


def _check_dates(
    confirmed_on: date, sample_on: date | None, onset_on: date | None, isolated_on: date | None
) -> None:
    for label, day in (("sample_on", sample_on), ("onset_on", onset_on)):
        if day is not None and day > confirmed_on:
            raise AppError(
                "case.date_after_confirmation",
                "Ngày lấy mẫu và ngày khởi phát phải trước hoặc bằng ngày xác định ca bệnh.",
                {"field": label},
            )
    earliest = min(d for d in (confirmed_on, sample_on, onset_on) if d is not None)
    if isolated_on is not None and isolated_on < earliest - timedelta(days=30):
        raise AppError("case.isolation_invalid", "Ngày cách ly không hợp lệ.")


def register_case(
    session: Session,
    actor: Actor,
    *,
    person: Person,
    confirmed_on: date,
    now: datetime,
    sample_on: date | None = None,
    onset_on: date | None = None,
    isolated_on: date | None = None,
    classification: str = "community",
    area: Area | None = None,
    note: str | None = None,
) -> Case:
    """Register a confirmed case (F0) for a person, with its infectious window derived by the
    rules in force on the confirmation day; the person's open contact records now point to it."""
    if classification not in CLASSIFICATIONS:
        raise AppError("case.classification_invalid", "Phân loại ca bệnh không hợp lệ.")
    if confirmed_on > local_day(now):
        raise AppError("case.confirmed_in_future", "Ngày xác định ca bệnh ở tương lai.")
    _check_dates(confirmed_on, sample_on, onset_on, isolated_on)
    area_id = person.area_id or (area.id if area is not None else None)
    where = session.get(Area, area_id) if area_id is not None else None
    if where is None or where.level != "commune":
        raise AppError(
            "case.area_required",
            "Người này chưa có địa chỉ cấp xã: chọn xã, phường nơi quản lý ca bệnh.",
        )
    probe = Case(id=None, area_id=where.id)
    require(actor.principal, "case.manage", case_target(where, probe))
    existing = session.scalar(
        select(Case.code).where(Case.person_id == person.id, Case.status == "active")
    )
    if existing is not None:
        raise Conflict("case.already_active", "Người này đang là ca bệnh.", {"case": existing})
    rules = exposure_rules_on(confirmed_on)
    start, end = infectious_window(
        onset=onset_on,
        sample=sample_on,
        isolation=isolated_on,
        confirmed=confirmed_on,
        rules=rules,
    )
    case_obj = Case(
        code="tmp-" + secrets.token_hex(8),
        person_id=person.id,
        area_id=where.id,
        confirmed_on=confirmed_on,
        sample_on=sample_on,
        onset_on=onset_on,
        isolated_on=isolated_on,
        classification=classification,
        status="active",
        window_start=start.astimezone(UTC),
        window_end=end.astimezone(UTC),
        rules_version=rules.version,
        registered_at=now,
        registered_by_id=actor.principal.user_id if actor.principal else None,
        note=(note or "").strip()[:500] or None,
    )
    session.add(case_obj)
    session.flush()
    province = where.path.split("/")[0]
    case_obj.code = f"BN-{province}-{case_obj.id:06d}"
    linked = list(
        session.scalars(
            select(Contact).where(Contact.person_id == person.id, Contact.status == "quarantined")
        )
    )
    for contact in linked:
        contact.status, contact.became_case_id = "became_case", case_obj.id
    record(
        session,
        actor,
        "case.register",
        now=now,
        object_type="case",
        object_id=case_obj.id,
        area_id=where.id,
        details={
            "code": case_obj.code,
            "person_id": person.id,
            "window": [start.isoformat(), end.isoformat()],
            "rules_version": rules.version,
            "was_contact_of": [c.case_id for c in linked],
        },
    )
    from phongdich.tracing.timeline import draft_timeline

    draft_timeline(session, actor, case_obj, now=now)
    session.flush()
    return case_obj


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def explain(
    candidate: Candidate, found: Found, venue_names: dict[int, str], case_days: set[Any]
) -> dict[str, Any]:
    """What an officer reads before deciding: every co-presence, how each end was known, and the
    rules, by version."""
    rules = found.rules
    contacts = [
        {
            "venue_id": c.venue_id,
            "venue": venue_names.get(c.venue_id, ""),
            "day": c.day.isoformat(),
            "overlap_minutes": round(c.overlap.total_seconds() / 60, 1),
            "contact": {
                "visit_id": c.contact_visit_id,
                "start": _iso(c.contact_start),
                "end": _iso(c.contact_end),
                "end_rule": c.contact_end_rule.value,
            },
            "case": {
                "visit_id": c.case_visit_id,
                "start": _iso(c.case_start),
                "end": _iso(c.case_end),
                "end_rule": c.case_end_rule.value,
            },
        }
        for c in candidate.contacts
    ]
    same_day = []
    if candidate.category is Category.SAME_VENUE_SAME_DAY:
        for s in found.same_day.visits_of(candidate.person_id):
            days = {(s.venue_id, d) for d, _a, _b in split_by_local_day(s.start, s.end)}
            for venue_id, day in sorted(days & case_days):
                same_day.append(
                    {
                        "venue_id": venue_id,
                        "venue": venue_names.get(venue_id, ""),
                        "day": day.isoformat(),
                        "visit": {
                            "visit_id": s.visit_id,
                            "start": _iso(s.start),
                            "end": _iso(s.end),
                            "end_rule": s.end_rule.value,
                        },
                    }
                )
    return {
        "rules_version": rules.version,
        "rules": {
            "min_case_stay_minutes": rules.min_case_stay.total_seconds() / 60,
            "linger_minutes": rules.linger_after_case.total_seconds() / 60,
            "clock_skew_minutes": rules.clock_skew.total_seconds() / 60,
            "min_f1_overlap_minutes": rules.min_f1_overlap.total_seconds() / 60,
        },
        "household": candidate.household,
        "contacts": contacts,
        "same_day": same_day,
    }


def exposure_span(
    candidate: Candidate, rules: ExposureRules, window: tuple[datetime, datetime]
) -> tuple[datetime | None, datetime | None]:
    """First and last moment of shared time (household members: the whole window)."""
    if candidate.household and not candidate.contacts:
        return window
    spans = []
    for c in candidate.contacts:
        src = Stay(0, 0, c.venue_id, c.case_start, c.case_end, c.case_end_rule)
        exp_start, exp_end = case_exposure_interval(src, rules)
        lo, hi = max(c.contact_start, exp_start, window[0]), min(c.contact_end, exp_end, window[1])
        if hi > lo:
            spans.append((lo, hi))
    if not spans:
        return window if candidate.household else (None, None)
    return min(s[0] for s in spans), max(s[1] for s in spans)


def store_candidates(
    session: Session,
    case_obj: Case,
    found: Found,
    window: tuple[datetime, datetime],
    *,
    now: datetime,
    generation: int = 1,
    source_contact: Contact | None = None,
    skip_people: set[int] | frozenset[int] = frozenset(),
) -> list[ExposureCandidate]:
    """Insert new candidates, refresh undecided ones, drop undecided ones no longer found;
    decisions already taken are kept as they are."""
    source_id = source_contact.id if source_contact is not None else None
    existing = {
        c.person_id: c
        for c in session.scalars(
            select(ExposureCandidate).where(
                ExposureCandidate.case_id == case_obj.id,
                ExposureCandidate.generation == generation,
                ExposureCandidate.source_contact_id.is_(None)
                if source_id is None
                else ExposureCandidate.source_contact_id == source_id,
            )
        )
    }
    venue_ids = {s.venue_id for s in found.sources}
    names = dict(session.execute(select(Venue.id, Venue.name).where(Venue.id.in_(venue_ids))).all())
    case_days = {
        (s.venue_id, d) for s in found.sources for d, _a, _b in split_by_local_day(s.start, s.end)
    }
    kept: list[ExposureCandidate] = []
    seen: set[int] = set()
    for cand in found.candidates:
        if cand.person_id in skip_people:
            continue
        seen.add(cand.person_id)
        first, last = exposure_span(cand, found.rules, window)
        values = {
            "category": cand.category.value,
            "overlap_minutes": round(cand.total_overlap.total_seconds() / 60),
            "best_daily_minutes": round(cand.best_daily_overlap.total_seconds() / 60),
            "household": cand.household,
            "explanation": explain(cand, found, names, case_days),
            "rules_version": cand.rules_version,
            "first_exposure_at": first,
            "last_exposure_at": last,
            "computed_at": now,
        }
        row = existing.get(cand.person_id)
        if row is None:
            row = ExposureCandidate(
                case_id=case_obj.id,
                person_id=cand.person_id,
                generation=generation,
                source_contact_id=source_id,
                status=PROPOSED,
                **values,
            )
            session.add(row)
        elif row.status == PROPOSED:
            for key, value in values.items():
                setattr(row, key, value)
        kept.append(row)
    stale = [c.id for p, c in existing.items() if p not in seen and c.status == PROPOSED]
    if stale:
        session.execute(delete(ExposureCandidate).where(ExposureCandidate.id.in_(stale)))
    session.flush()
    return kept


def compute_candidates(
    session: Session, actor: Actor, case_obj: Case, *, now: datetime
) -> list[ExposureCandidate]:
    """Find and store the case's F1 candidates from check-ins (the case's movement history is
    read for the case: logged as such, and audited)."""
    area = session.get(Area, case_obj.area_id)
    assert area is not None
    require(actor.principal, "case.manage", case_target(area, case_obj))
    person = session.get(Person, case_obj.person_id)
    assert person is not None
    log_history_look_up(session, actor, person, case_obj, now=now, what="Truy vết ca bệnh")
    rules = exposure_rules_on(case_obj.confirmed_on)
    window = (case_obj.window_start, case_obj.window_end)
    found = find_for(session, person, window, rules)
    stored = store_candidates(session, case_obj, found, window, now=now)
    case_obj.candidates_computed_at = now
    counts: dict[str, int] = defaultdict(int)
    for c in found.candidates:
        counts[c.category.value] += 1
    record(
        session,
        actor,
        "case.candidates.compute",
        now=now,
        object_type="case",
        object_id=case_obj.id,
        area_id=case_obj.area_id,
        details={"rules_version": rules.version, "visits": len(found.sources), **counts},
    )
    session.flush()
    return stored


def candidates_of(
    session: Session, case_obj: Case, *, generation: int | None = None
) -> list[ExposureCandidate]:
    """The case's candidates, strongest first (caller has checked access to the case)."""
    rank = {"f1_likely": 0, "f1_candidate": 1, "same_venue_same_day": 2}
    query = select(ExposureCandidate).where(ExposureCandidate.case_id == case_obj.id)
    if generation is not None:
        query = query.where(ExposureCandidate.generation == generation)
    rows = list(session.scalars(query))
    rows.sort(key=lambda c: (c.generation, rank.get(c.category, 9), -c.best_daily_minutes, c.id))
    return rows


def people_by_id(session: Session, ids: Sequence[int]) -> dict[int, Person]:
    if not ids:
        return {}
    return {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(set(ids))))}
