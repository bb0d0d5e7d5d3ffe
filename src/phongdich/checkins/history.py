"""Movement history: a citizen's own and their dependants'; an official's look-up, which needs
a stated purpose and is logged where the person can see it; a venue's in/out list for the day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from phongdich.audit.service import Actor, record
from phongdich.auth.policy import require
from phongdich.checkins.rules import END_OF_DAY, end_of_local_day, estimated_end
from phongdich.core.clock import VN_TZ, to_local
from phongdich.core.errors import AppError
from phongdich.core.text import normalize
from phongdich.models import Area, HistoryLookup, Person, User, Venue, VenueLocation, Visit
from phongdich.people.service import people_of, person_target, require_on
from phongdich.venues.queries import venue_target

HISTORY_DAYS = 28
MIN_PURPOSE_LENGTH = 10


@dataclass(frozen=True)
class VisitView:
    """A visit as pages and the API show it; `ended_at` is estimated when `estimated`."""

    id: int
    person_id: int
    person_name: str
    venue_id: int
    venue_name: str
    location_name: str | None
    source: str
    checked_in_at: datetime
    ended_at: datetime
    end_rule: str
    estimated: bool  # no one has said when it ended; the rule's estimate is shown

    def is_open(self, now: datetime) -> bool:
        return self.estimated and self.ended_at > now


def views(session: Session, visits: Sequence[Visit]) -> list[VisitView]:
    """Visits with names, in three queries whatever their number."""
    person_ids = {v.person_id for v in visits}
    venue_ids = {v.venue_id for v in visits}
    location_ids = {v.location_id for v in visits if v.location_id is not None}
    people = dict(
        session.execute(select(Person.id, Person.full_name).where(Person.id.in_(person_ids))).all()
    )
    venues = dict(
        session.execute(select(Venue.id, Venue.name).where(Venue.id.in_(venue_ids))).all()
    )
    locations = dict(
        session.execute(
            select(VenueLocation.id, VenueLocation.name).where(VenueLocation.id.in_(location_ids))
        ).all()
    )
    out = []
    for v in visits:
        if v.checked_out_at is not None:
            end, rule, estimated = v.checked_out_at, v.end_rule or END_OF_DAY, False
        else:
            end, rule = estimated_end(v.checked_in_at, v.last_seen_at, v.default_stay_minutes)
            estimated = True
        out.append(
            VisitView(
                id=v.id,
                person_id=v.person_id,
                person_name=people.get(v.person_id, ""),
                venue_id=v.venue_id,
                venue_name=venues.get(v.venue_id, ""),
                location_name=locations.get(v.location_id) if v.location_id else None,
                source=v.source,
                checked_in_at=v.checked_in_at,
                ended_at=end,
                end_rule=rule,
                estimated=estimated,
            )
        )
    return out


def _visits_of(
    session: Session, person_ids: Sequence[int], start: datetime, end: datetime
) -> list[Visit]:
    if not person_ids:
        return []
    return list(
        session.scalars(
            select(Visit)
            .where(
                Visit.person_id.in_(person_ids),
                Visit.checked_in_at >= start,
                Visit.checked_in_at < end,
            )
            .order_by(Visit.checked_in_at.desc(), Visit.id.desc())
        )
    )


def own_history(
    session: Session, actor: Actor, user: User, *, now: datetime, days: int = HISTORY_DAYS
) -> dict[int, list[VisitView]]:
    """The citizen's own visits and their dependants', newest first, by person id."""
    people = people_of(session, user)
    for p in people:
        require(actor.principal, "self.read", person_target(session, p))
    by_person: dict[int, list[VisitView]] = defaultdict(list)
    for view in views(
        session, _visits_of(session, [p.id for p in people], now - timedelta(days=days), now)
    ):
        by_person[view.person_id].append(view)
    return {p.id: by_person.get(p.id, []) for p in people}


def look_up_history(
    session: Session,
    actor: Actor,
    person: Person,
    *,
    purpose: str,
    now: datetime,
    case_ref: str | None = None,
    days: int = HISTORY_DAYS,
) -> list[VisitView]:
    """An official reads a person's movement history for a stated purpose (logged, audited)."""
    purpose = normalize(purpose)
    if len(purpose) < MIN_PURPOSE_LENGTH:
        raise AppError(
            "history.purpose_required",
            "Vui lòng nêu rõ mục đích tra cứu (ít nhất {min_length} ký tự), "
            "ví dụ: truy vết ca F0 số …",
            {"min_length": MIN_PURPOSE_LENGTH},
        )
    start = now - timedelta(days=days)
    visits = _visits_of(session, [person.id], start, now + timedelta(minutes=5))
    require_on(session, actor.principal, "person.history.read", person)
    session.add(
        HistoryLookup(
            person_id=person.id,
            at=now,
            actor_user_id=actor.principal.user_id if actor.principal else None,
            actor_label=actor.label[:160],
            purpose=purpose[:1000],
            case_ref=normalize(case_ref or "")[:60] or None,
            window_start=start,
            window_end=now,
            visits_shown=len(visits),
        )
    )
    record(
        session,
        actor,
        "person.history.read",
        now=now,
        object_type="person",
        object_id=person.id,
        area_id=person.area_id,
        details={"purpose": purpose[:200], "case_ref": case_ref, "visits": len(visits)},
    )
    session.flush()
    return views(session, visits)


def lookups_of(session: Session, actor: Actor, user: User) -> list[HistoryLookup]:
    """Who looked at the history of this citizen or their dependants, newest first."""
    people = people_of(session, user)
    for p in people:
        require(actor.principal, "self.read", person_target(session, p))
    if not people:
        return []
    return list(
        session.scalars(
            select(HistoryLookup)
            .where(HistoryLookup.person_id.in_([p.id for p in people]))
            .order_by(HistoryLookup.at.desc(), HistoryLookup.id.desc())
            .limit(200)
        )
    )


@dataclass(frozen=True)
class VenueDay:
    """A venue's in/out list for one local day and how many people are inside now."""

    venue: Venue
    day_start: datetime
    visits: list[VisitView]  # the newest `limit` of the day's visits
    occupancy: int  # of all the day's visits, not only those listed
    total: int  # visits that began today


def venue_day(
    session: Session, actor: Actor, venue: Venue, *, now: datetime, limit: int = 1000
) -> VenueDay:
    """Today's visits at the venue (newest first) and the current occupancy, for its staff."""
    area = session.get(Area, venue.area_id)
    assert area is not None
    require(actor.principal, "venue.visits.read", venue_target(venue, area))
    day_end = end_of_local_day(now)
    day_start = (day_end - timedelta(days=1)).astimezone(VN_TZ)
    rows = list(
        session.scalars(
            select(Visit)
            .where(
                Visit.venue_id == venue.id,
                Visit.checked_in_at >= day_start,
                Visit.checked_in_at < day_end,
            )
            .order_by(Visit.checked_in_at.desc(), Visit.id.desc())
            .limit(limit)
        )
    )
    today = (Visit.venue_id == venue.id, Visit.checked_in_at >= day_start,
             Visit.checked_in_at < day_end)  # fmt: skip
    total = session.scalar(select(func.count()).select_from(Visit).where(*today)) or 0
    return VenueDay(venue, to_local(day_start), views(session, rows), _inside(session, today, now),
                    total)  # fmt: skip


def _inside(session: Session, today: tuple[Any, ...], now: datetime) -> int:
    """How many of the day's visits are under way now: begun, and neither checked out nor past
    their estimated end. Counted over the whole day, not the page's list: a busy market's
    latest ten entries say little of how many are inside."""
    candidates = session.execute(
        select(
            Visit.checked_in_at,
            Visit.last_seen_at,
            Visit.default_stay_minutes,
            Visit.checked_out_at,
        ).where(
            *today,
            Visit.checked_in_at <= now,
            or_(Visit.checked_out_at.is_(None), Visit.checked_out_at > now),
        )
    ).all()
    return sum(
        1
        for checked_in, last_seen, stay, checked_out in candidates
        if checked_out is not None or estimated_end(checked_in, last_seen, stay)[0] > now
    )
