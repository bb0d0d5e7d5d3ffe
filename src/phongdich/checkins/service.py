"""Recording visits, one at a time or as a device's batch, with the check-out rules applied.

Every way of checking in ends here: a citizen scanning a poster (`citizen_scan`), staff scanning
a personal QR with a phone (`staff_scan`) or a keyboard-wedge scanner (`hardware_scanner`),
staff recording someone without a phone (`khai_ho`), and an offline scanner's upload
(`device_batch`). Each new visit is counted in the venue's activity counters
(`venues.activity`), which outlive the raw visits deleted by retention.

A visit is its own record of who recorded it (user, device token, source); batches, check-outs
and everything about people are written to the audit log as well.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

from sqlalchemy import Connection, CursorResult, insert, select
from sqlalchemy.orm import Session, make_transient_to_detached

from phongdich.audit.service import Actor, record
from phongdich.auth.policy import Target, can, require
from phongdich.checkins.counting import queue_visit
from phongdich.checkins.rules import (
    EXPLICIT,
    FALLBACK_STAY_MINUTES,
    NEXT_CHECKIN,
    closing,
    estimated_end,
    extends,
)
from phongdich.core.errors import AppError, NotFound
from phongdich.models import Area, Person, Venue, VenueLocation, VenueType, Visit
from phongdich.people.service import person_target
from phongdich.venues.queries import OPERATING, venue_target

CITIZEN_SCAN, STAFF_SCAN, HARDWARE_SCANNER, KHAI_HO, DEVICE_BATCH = (
    "citizen_scan",
    "staff_scan",
    "hardware_scanner",
    "khai_ho",
    "device_batch",
)
SOURCES = (CITIZEN_SCAN, STAFF_SCAN, HARDWARE_SCANNER, KHAI_HO, DEVICE_BATCH)
CREATED, EXTENDED, DUPLICATE = "created", "extended", "duplicate"
# Scanner clocks drift; a scan a little in the future is taken as now, further is refused.
CLOCK_SKEW = timedelta(minutes=5)
# How far back the person's visits matter for a new scan: older ones ended by local midnight.
LOOKBACK = timedelta(days=1, hours=1)


class VisitLike(Protocol):
    """What the check-out rules read and write of a visit."""

    venue_id: int
    location_id: int | None
    checked_in_at: datetime
    last_seen_at: datetime
    checked_out_at: datetime | None
    end_rule: str | None
    default_stay_minutes: int


@dataclass(frozen=True)
class Recorded:
    visit: Visit
    outcome: str  # created / extended / duplicate
    person_id: int


class _StayCache:
    """Default stay per venue type: read once a minute, not on every scan."""

    def __init__(self, ttl: float = 60.0) -> None:
        self.ttl, self._loaded, self._by_type = ttl, 0.0, dict[int, int]()

    def minutes(self, session: Session | Connection, type_id: int) -> int:
        if type_id not in self._by_type or time.monotonic() - self._loaded > self.ttl:
            rows = session.execute(select(VenueType.id, VenueType.default_stay_minutes))
            self._by_type = {tid: minutes for tid, minutes in rows}
            self._loaded = time.monotonic()
        return self._by_type.get(type_id, FALLBACK_STAY_MINUTES)


STAYS = _StayCache()


def check_time(at: datetime, now: datetime) -> datetime:
    """A scan time from a device: not far in the future (clock skew is forgiven)."""
    if at.tzinfo is None:
        raise AppError("checkin.time_naive", "Thời điểm quét phải kèm múi giờ.")
    if at > now + CLOCK_SKEW:
        raise AppError(
            "checkin.time_future",
            "Thời điểm quét ở tương lai: đồng hồ của máy quét bị sai.",
            {"at": at.isoformat()},
        )
    return min(at, now)


def check_operating(venue: Venue) -> None:
    check_operating_status(venue.id, venue.status)


def check_operating_status(venue_id: int, status: str) -> None:
    if status not in OPERATING:
        raise AppError(
            "checkin.venue_not_operating",
            "Địa điểm này chưa được duyệt hoặc đã ngừng hoạt động nên không nhận khai báo.",
            {"venue_id": venue_id, "status": status},
        )


def require_venue_scan(session: Session, actor: Actor, venue: Venue) -> None:
    """Staff, owners and devices scan only for their own venue."""
    if can(actor.principal, "venue.scan", Target(object_type="venue", object_id=venue.id)):
        return  # held for this very venue: no need to load its commune (the hot path)
    area = session.get(Area, venue.area_id)
    assert area is not None
    require(actor.principal, "venue.scan", venue_target(venue, area))


def authorize(session: Session, actor: Actor, person: Person, venue: Venue, source: str) -> None:
    """Citizens check in themselves and their dependants; staff and devices scan for their venue."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    if source == CITIZEN_SCAN:
        require(actor.principal, "self.change", person_target(session, person))
        return
    require_venue_scan(session, actor, venue)


def _timeline(session: Session, person_id: int, at: datetime) -> list[Visit]:
    return list(
        session.scalars(
            select(Visit)
            .where(Visit.person_id == person_id, Visit.checked_in_at >= at - LOOKBACK)
            .order_by(Visit.checked_in_at, Visit.id)
        )
    )


def place_scan[V: VisitLike](
    timeline: list[V],
    *,
    venue_id: int,
    location_id: int | None,
    at: datetime,
    stay_minutes: int,
    new: Callable[..., V] = Visit,  # type: ignore[assignment]
) -> tuple[V, bool]:
    """Apply the rules to one person's visits (sorted by check-in) for a scan at `at`.

    Returns the visit the scan belongs to and whether it is new (False: extended). Existing
    visits are changed in place; a new one is returned unsaved and inserted into `timeline`.
    The visits are ORM objects here, or plain rows with the same attributes (`new` builds one)
    on the scan desk's raw path (`checkins.desk`).
    """
    i = 0
    while i < len(timeline) and timeline[i].checked_in_at <= at:
        i += 1
    prev = timeline[i - 1] if i else None
    following = timeline[i] if i < len(timeline) else None
    if prev is not None and extends(
        same_place=(prev.venue_id, prev.location_id) == (venue_id, location_id),
        last_seen_at=prev.last_seen_at,
        checked_out_at=prev.checked_out_at,
        end_rule=prev.end_rule,
        at=at,
    ):
        prev.last_seen_at = max(prev.last_seen_at, at)
        if prev.checked_out_at is not None and prev.checked_out_at < at:
            prev.checked_out_at, prev.end_rule = None, None  # back within minutes: reopened
        if prev.checked_out_at is None and following is not None:
            prev.checked_out_at, prev.end_rule = closing(
                prev.checked_in_at,
                prev.last_seen_at,
                prev.default_stay_minutes,
                following.checked_in_at,
            )
        return prev, False
    if prev is not None:
        if prev.checked_out_at is None:
            prev.checked_out_at, prev.end_rule = closing(
                prev.checked_in_at, prev.last_seen_at, prev.default_stay_minutes, at
            )
        elif prev.checked_out_at > at:
            # A late upload shows the person was elsewhere before the recorded end.
            prev.checked_out_at, prev.end_rule = at, NEXT_CHECKIN
    visit = new(
        venue_id=venue_id,
        location_id=location_id,
        checked_in_at=at,
        last_seen_at=at,
        default_stay_minutes=stay_minutes,
    )
    if following is not None:
        end = closing(at, at, stay_minutes, following.checked_in_at)
        visit.checked_out_at, visit.end_rule = end
    timeline.insert(i, visit)
    return visit, True


def record_check_in(
    session: Session,
    actor: Actor,
    *,
    person: Person,
    venue: Venue,
    now: datetime,
    source: str,
    at: datetime | None = None,
    location: VenueLocation | None = None,
    device_token_id: int | None = None,
    client_scan_id: str | None = None,
) -> Recorded:
    """Record that `person` entered `venue` (or extend their visit); flush only."""
    authorize(session, actor, person, venue, source)
    check_operating(venue)
    if location is not None and location.venue_id != venue.id:
        raise AppError("checkin.location_mismatch", "Khu vực không thuộc địa điểm này.")
    at = check_time(at or now, now)
    if person.merged_into_id is not None:
        raise AppError("checkin.person_merged", "Hồ sơ này đã được gộp vào một hồ sơ khác.")
    timeline = _timeline(session, person.id, at)
    recorded_by_id = actor.principal.user_id if actor.principal else None
    if client_scan_id is not None:
        # A retried scan is in the person's visits around its own time: no query of its own.
        # A device's is known by its token (two copies racing each other meet the unique
        # constraint; the loser is retried); a signed-in staff member's (the scanner page
        # sending what it kept while offline) by who recorded it.
        sender = _sender(device_token_id, recorded_by_id)
        for existing in timeline:
            if existing.client_scan_id == client_scan_id and sender == _sender(
                existing.device_token_id, existing.recorded_by_id
            ):
                return Recorded(existing, DUPLICATE, existing.person_id)
    stay = STAYS.minutes(session, venue.type_id)
    visit, is_new = place_scan(
        timeline,
        venue_id=venue.id,
        location_id=location.id if location else None,
        at=at,
        stay_minutes=stay,
    )
    if not is_new:
        session.flush()
        return Recorded(visit, EXTENDED, person.id)
    visit.person_id = person.id
    visit.source = source
    visit.recorded_by_id = recorded_by_id
    visit.device_token_id = device_token_id
    visit.client_scan_id = client_scan_id
    visit.received_at = now
    _insert_visit(session, visit)
    queue_visit(session, visit.id)  # counted into the venue counters by the minute job
    return Recorded(visit, CREATED, person.id)


def _sender(device_token_id: int | None, recorded_by_id: int | None) -> tuple[str, int | None]:
    """Whose client scan ids a scan's belongs to: its device's, else the staff member's."""
    if device_token_id is not None:
        return "device", device_token_id
    return "user", recorded_by_id


_VISITS = Visit.__table__
_VISIT_COLUMNS = tuple(c.key for c in _VISITS.c if c.key != "id")


def _insert_visit(session: Session, visit: Visit) -> None:
    """Insert a new visit with one Core INSERT (the hot path of every scan), then attach the
    object to the session as if loaded: later changes to it (an extension, a check-out) are
    tracked and flushed as usual, and queries hand back this very object."""
    values = {key: getattr(visit, key) for key in _VISIT_COLUMNS}
    for key, value in values.items():
        if key not in visit.__dict__:
            setattr(visit, key, value)  # loaded, not expired: no SELECT when read later
    stmt = insert(_VISITS)  # type: ignore[arg-type]
    result = cast(CursorResult[Any], session.execute(stmt, values))
    visit.id = result.inserted_primary_key[0]  # type: ignore[index]
    make_transient_to_detached(visit)
    session.add(visit)


def get_visit(session: Session, visit_id: int) -> Visit:
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFound("checkin.not_found", "Không tìm thấy lượt khai báo.", {"visit_id": visit_id})
    return visit


def check_out(session: Session, actor: Actor, visit: Visit, *, now: datetime) -> Visit:
    """The person (or their guardian) or the venue's staff end a visit now (audited)."""
    person = session.get(Person, visit.person_id)
    venue = session.get(Venue, visit.venue_id)
    assert person is not None and venue is not None
    area = session.get(Area, venue.area_id)
    assert area is not None
    if not can(actor.principal, "self.change", person_target(session, person)):
        require(actor.principal, "venue.scan", venue_target(venue, area))
    if visit.checked_out_at is not None and visit.end_rule == EXPLICIT:
        return visit
    end, _ = estimated_end(visit.checked_in_at, visit.last_seen_at, visit.default_stay_minutes)
    if visit.checked_out_at is not None and visit.checked_out_at <= now:
        raise AppError(
            "checkin.already_ended",
            "Lượt này đã kết thúc (do khai báo ở nơi khác hoặc hết giờ ước tính).",
            {"visit_id": visit.id},
        )
    visit.checked_out_at = max(min(now, end), visit.checked_in_at)
    visit.end_rule = EXPLICIT
    session.flush()
    record(
        session,
        actor,
        "checkin.check_out",
        now=now,
        object_type="visit",
        object_id=visit.id,
        area_id=venue.area_id,
        details={"venue_id": venue.id, "person_id": person.id},
    )
    return visit


def open_visits(session: Session, person_ids: list[int], *, now: datetime) -> list[Visit]:
    """Visits of these people still going on at `now` (for the check-out button)."""
    if not person_ids:
        return []
    rows = session.scalars(
        select(Visit)
        .where(
            Visit.person_id.in_(person_ids),
            Visit.checked_in_at >= now - LOOKBACK,
            Visit.checked_out_at.is_(None),
        )
        .order_by(Visit.checked_in_at.desc())
    )
    return [
        v
        for v in rows
        if estimated_end(v.checked_in_at, v.last_seen_at, v.default_stay_minutes)[0] > now
    ]
