"""The mốc dịch tễ: the places and times of a case while infectious, drafted from the case's
check-ins, published only when a second official (not the drafter) approves it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from phongdich.audit.service import Actor, record
from phongdich.auth.policy import require
from phongdich.core.errors import AppError, Conflict, NotFound
from phongdich.models import Area, Case, EpiTimeline, Venue
from phongdich.tracing.queries import case_target, in_areas, stays_of_person
from phongdich.tracing.rules import exposure_rules_on
from phongdich.venues.queries import area_names

DRAFT, PUBLISHED = "draft", "published"


def timeline_entries(session: Session, case_obj: Case) -> list[dict[str, Any]]:
    """The case's qualifying stays in its window, in time order, with venue and commune."""
    rules = exposure_rules_on(case_obj.confirmed_on)
    stays = [
        s
        for s in stays_of_person(
            session, case_obj.person_id, (case_obj.window_start, case_obj.window_end), rules
        )
        if s.end - s.start >= rules.min_case_stay
    ]
    venues = {
        v.id: v
        for v in session.scalars(select(Venue).where(Venue.id.in_({s.venue_id for s in stays})))
    }
    areas = list(
        session.scalars(select(Area).where(Area.id.in_({v.area_id for v in venues.values()})))
    )
    names = area_names(session, areas)
    return [
        {
            "visit_id": s.visit_id,
            "venue_id": s.venue_id,
            "venue": venues[s.venue_id].name,
            "address": venues[s.venue_id].street_address,
            "commune": names.get(venues[s.venue_id].area_id, ""),
            "start": s.start.isoformat(),
            "end": s.end.isoformat(),
            "end_rule": s.end_rule.value,
        }
        for s in stays
        if s.venue_id in venues
    ]


def draft_timeline(session: Session, actor: Actor, case_obj: Case, *, now: datetime) -> EpiTimeline:
    """Draft (or redraft, while still a draft) the mốc dịch tễ from the case's visits. Whoever
    drafts it cannot be the one who approves it."""
    timeline = session.scalar(select(EpiTimeline).where(EpiTimeline.case_id == case_obj.id))
    if timeline is not None and timeline.status == PUBLISHED:
        raise Conflict("timeline.published", "Mốc dịch tễ đã công bố, không soạn lại được.")
    entries = timeline_entries(session, case_obj)
    drafter = actor.principal.user_id if actor.principal else None
    if timeline is None:
        timeline = EpiTimeline(case_id=case_obj.id, status=DRAFT, entries=entries)
        session.add(timeline)
    timeline.entries, timeline.drafted_at, timeline.drafted_by_id = entries, now, drafter
    record(
        session,
        actor,
        "timeline.draft",
        now=now,
        object_type="case",
        object_id=case_obj.id,
        area_id=case_obj.area_id,
        details={"entries": len(entries)},
    )
    session.flush()
    return timeline


def timeline_of(session: Session, case_obj: Case) -> EpiTimeline | None:
    return session.scalar(select(EpiTimeline).where(EpiTimeline.case_id == case_obj.id))


def approve_timeline(
    session: Session, actor: Actor, case_obj: Case, *, now: datetime
) -> EpiTimeline:
    """A second official approves the draft, which publishes it. The drafter cannot."""
    area = session.get(Area, case_obj.area_id)
    assert area is not None
    require(actor.principal, "case.manage", case_target(area, case_obj))
    timeline = timeline_of(session, case_obj)
    if timeline is None:
        raise NotFound("timeline.not_found", "Ca bệnh chưa có mốc dịch tễ.")
    if timeline.status == PUBLISHED:
        raise Conflict("timeline.published", "Mốc dịch tễ đã được công bố.")
    me = actor.principal.user_id if actor.principal else None
    if me is None or me == timeline.drafted_by_id:
        raise AppError(
            "timeline.second_official_required",
            "Người soạn mốc dịch tễ không tự duyệt được: cần một cán bộ thứ hai duyệt để công bố.",
            status=403,
        )
    timeline.status, timeline.approved_at, timeline.approved_by_id = PUBLISHED, now, me
    record(
        session,
        actor,
        "timeline.publish",
        now=now,
        object_type="case",
        object_id=case_obj.id,
        area_id=case_obj.area_id,
        details={"entries": len(timeline.entries), "drafted_by": timeline.drafted_by_id},
    )
    session.flush()
    return timeline


def published_timelines(
    session: Session, within: Area | None = None, limit: int = 50
) -> list[tuple[Case, EpiTimeline]]:
    """Published mốc dịch tễ, newest first, for the public page (places and times only)."""
    query = (
        select(Case, EpiTimeline)
        .join(EpiTimeline, EpiTimeline.case_id == Case.id)
        .join(Area, Area.id == Case.area_id)
        .where(EpiTimeline.status == PUBLISHED)
    )
    if within is not None:
        from phongdich.auth.service import area_ref

        query = query.where(in_areas([area_ref(within)]))
    rows = session.execute(query.order_by(EpiTimeline.approved_at.desc()).limit(limit)).all()
    return [(c, t) for c, t in rows]
