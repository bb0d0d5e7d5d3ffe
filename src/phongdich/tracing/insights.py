"""Looking across cases: common sources (venues shared by unlinked cases while infectious) and
the counts by province, district and commune for the steering committee."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from phongdich.auth.policy import Principal, areas_for, require_somewhere
from phongdich.auth.service import area_ref
from phongdich.core.errors import Forbidden
from phongdich.models import Area, Case, Contact, ExposureNotice, FollowUp, Venue
from phongdich.tracing.exposure import Stay, common_sources
from phongdich.tracing.queries import case_scope, in_areas, stays_of_person
from phongdich.tracing.rules import exposure_rules_on
from phongdich.venues.queries import area_names


@dataclass(frozen=True)
class SourceVisit:
    case_id: int
    case_code: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class CommonSourceView:
    venue_id: int
    venue_name: str
    commune: str
    case_codes: list[str]
    visits: list[SourceVisit]
    closest_gap_minutes: int


def linked_pairs(session: Session, case_ids: set[int]) -> set[frozenset[int]]:
    """Pairs of cases already known to be linked: one was a contact of the other."""
    rows = session.execute(
        select(Contact.case_id, Contact.became_case_id).where(
            Contact.became_case_id.is_not(None),
            or_(Contact.case_id.in_(case_ids), Contact.became_case_id.in_(case_ids)),
        )
    ).all()
    return {frozenset((a, b)) for a, b in rows if b is not None}


def find_common_sources(
    session: Session, principal: Principal, *, now: datetime, days: int = 14, limit: int = 50
) -> list[CommonSourceView]:
    """Venues where two or more cases not yet linked to each other were while infectious, in
    the officer's area, over the last `days`; most cases first, then the closest in time."""
    require_somewhere(principal, "case.read")
    query = select(Case).join(Area, Area.id == Case.area_id)
    scope = case_scope(principal)
    if scope is not None:
        query = query.where(scope)
    since = now - timedelta(days=days)
    cases = list(session.scalars(query.where(Case.window_end > since).limit(500)))
    stays: dict[int, Sequence[Stay]] = {}
    windows: dict[int, tuple[datetime, datetime]] = {}
    for c in cases:
        rules = exposure_rules_on(c.confirmed_on)
        window = (max(c.window_start, since), c.window_end)
        windows[c.id] = window
        stays[c.id] = [
            s
            for s in stays_of_person(session, c.person_id, window, rules)
            if s.end - s.start >= rules.min_case_stay
        ]
    found = common_sources(stays, windows, linked=linked_pairs(session, set(windows)))[:limit]
    venues = {
        v.id: v
        for v in session.scalars(select(Venue).where(Venue.id.in_({f.venue_id for f in found})))
    }
    areas = list(
        session.scalars(select(Area).where(Area.id.in_({v.area_id for v in venues.values()})))
    )
    names = area_names(session, areas)
    codes = {c.id: c.code for c in cases}
    return [
        CommonSourceView(
            venue_id=f.venue_id,
            venue_name=venues[f.venue_id].name,
            commune=names.get(venues[f.venue_id].area_id, ""),
            case_codes=[codes[c] for c in f.case_ids],
            visits=[SourceVisit(c, codes[c], s.start, s.end) for c, s in f.visits],
            closest_gap_minutes=round(f.closest_gap.total_seconds() / 60),
        )
        for f in found
        if f.venue_id in venues
    ]


# Counts by area.


@dataclass
class AreaCounts:
    area_id: int
    name: str
    new_cases: int = 0
    already_listed: int = 0  # new cases who were on an F1 list before confirmation
    f1_listed: int = 0
    f1_reached: int = 0  # a notice reached an inbox or a phone, or followed up at least once
    in_quarantine: int = 0
    follow_ups_missed: int = 0
    recovered: int = 0  # cases recovered in the period
    died: int = 0  # cases who died in the period


@dataclass
class CountsReport:
    within: Area
    date_from: date
    date_to: date
    rows: list[AreaCounts] = field(default_factory=list)
    total: AreaCounts | None = None


def _child_of(communes: dict[int, str], children: dict[str, int]) -> dict[int, int]:
    """Map each commune id to the child area (by path prefix) it belongs to."""
    out: dict[int, int] = {}
    for cid, path in communes.items():
        for prefix, child_id in children.items():
            if path == prefix or path.startswith(prefix + "/"):
                out[cid] = child_id
                break
    return out


def _grouped(session: Session, query: Select[Any, Any]) -> dict[int, int]:
    rows = session.execute(query).all()
    return {int(a): int(n) for a, n in rows if a is not None}


def area_counts(
    session: Session,
    principal: Principal,
    within: Area,
    *,
    date_from: date,
    date_to: date,
    today: date,
) -> CountsReport:
    """New F0, how many of them were already on an F1 list, F1 listed and reached, in
    quarantine, follow-ups missed, and cases recovered or dead, for each child area of `within`
    (which the principal must be allowed to read)."""
    require_somewhere(principal, "case.read")
    refs = areas_for(principal, "case.read")
    me = area_ref(within)
    if refs is not None and not any(me.within(r) for r in refs):
        raise Forbidden(details={"action": "case.read"})
    communes = dict(
        session.execute(
            select(Area.id, Area.path).where(in_areas([me]), Area.level == "commune")
        ).all()
    )
    if within.level == "commune":
        child_rows = [within]
    else:
        child_rows = list(
            session.scalars(select(Area).where(Area.parent_id == within.id).order_by(Area.code))
        )
    child_of = _child_of(communes, {a.path: a.id for a in child_rows})
    ids = list(communes)

    earlier = aliased(Contact)
    new_cases = _grouped(
        session,
        select(Case.area_id, func.count())
        .where(Case.area_id.in_(ids), Case.confirmed_on.between(date_from, date_to))
        .group_by(Case.area_id),
    )
    listed_before = exists().where(
        earlier.person_id == Case.person_id, earlier.confirmed_at < Case.registered_at
    )
    already = _grouped(
        session,
        select(Case.area_id, func.count())
        .where(Case.area_id.in_(ids), Case.confirmed_on.between(date_from, date_to), listed_before)
        .group_by(Case.area_id),
    )
    in_period = and_(
        Contact.generation == 1,
        Contact.station_area_id.in_(ids),
        Contact.quarantine_start.between(date_from, date_to),
    )
    listed = _grouped(
        session,
        select(Contact.station_area_id, func.count())
        .where(in_period)
        .group_by(Contact.station_area_id),
    )
    # Reached: a notice that went somewhere (an account's inbox or an SMS), or a follow-up
    # that spoke to them. A notice for someone with neither phone nor account reached no one.
    reached_cond = or_(
        exists().where(
            ExposureNotice.contact_id == Contact.id,
            or_(ExposureNotice.user_id.is_not(None), ExposureNotice.sms_message_id.is_not(None)),
        ),
        exists().where(FollowUp.contact_id == Contact.id, FollowUp.status == "done"),
    )
    reached = _grouped(
        session,
        select(Contact.station_area_id, func.count())
        .where(in_period, reached_cond)
        .group_by(Contact.station_area_id),
    )
    quarantined = _grouped(
        session,
        select(Contact.station_area_id, func.count())
        .where(
            Contact.station_area_id.in_(ids),
            Contact.status == "quarantined",
            Contact.quarantine_start <= today,
            Contact.quarantine_end >= today,
        )
        .group_by(Contact.station_area_id),
    )
    # A day counts as missed once the station recorded that the person was not reached, or
    # once it ended with nothing recorded; days from the day a contact was confirmed a case on
    # are not follow-ups any more.
    became = aliased(Case)
    missed = _grouped(
        session,
        select(FollowUp.station_area_id, func.count())
        .join(Contact, Contact.id == FollowUp.contact_id)
        .outerjoin(became, became.id == Contact.became_case_id)
        .where(
            FollowUp.station_area_id.in_(ids),
            or_(
                and_(FollowUp.status == "missed", FollowUp.day.between(date_from, date_to)),
                and_(
                    FollowUp.status == "due",
                    FollowUp.day.between(date_from, min(date_to, today - timedelta(days=1))),
                ),
            ),
            or_(became.id.is_(None), FollowUp.day < became.confirmed_on),
        )
        .group_by(FollowUp.station_area_id),
    )
    outcomes = session.execute(
        select(Case.area_id, Case.status, func.count())
        .where(Case.area_id.in_(ids), Case.outcome_on.between(date_from, date_to))
        .group_by(Case.area_id, Case.status)
    ).all()
    recovered = {int(a): int(n) for a, status, n in outcomes if status == "recovered"}
    died = {int(a): int(n) for a, status, n in outcomes if status == "died"}
    names = area_names(session, child_rows)
    rows = {a.id: AreaCounts(a.id, names.get(a.id, a.name)) for a in child_rows}
    for source, attr in (
        (new_cases, "new_cases"),
        (already, "already_listed"),
        (listed, "f1_listed"),
        (reached, "f1_reached"),
        (quarantined, "in_quarantine"),
        (missed, "follow_ups_missed"),
        (recovered, "recovered"),
        (died, "died"),
    ):
        for commune_id, n in source.items():
            child = child_of.get(commune_id)
            if child is not None:
                setattr(rows[child], attr, getattr(rows[child], attr) + n)
    total = AreaCounts(within.id, area_names(session, [within]).get(within.id, within.name))
    for r in rows.values():
        for attr in (
            "new_cases",
            "already_listed",
            "f1_listed",
            "f1_reached",
            "in_quarantine",
            "follow_ups_missed",
            "recovered",
            "died",
        ):
            setattr(total, attr, getattr(total, attr) + getattr(r, attr))
    return CountsReport(within, date_from, date_to, list(rows.values()), total)
