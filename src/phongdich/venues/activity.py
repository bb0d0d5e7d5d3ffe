"""Per-venue activity counters, kept up to date as scans are counted, so that reports never read
raw check-ins (10 M rows take seconds to count by day; the counters take milliseconds). Poster
checks are counted as they happen; visits by the counting job a minute or so later
(`checkins.counting`), which keeps that work out of every scan.

For each scan: one upsert into `venue_visitors` (the last local day this person was seen here;
it tells whether the person is new for the day), one upsert into `venue_daily_activity` (scans,
distinct visitors and poster checks per venue per local day in Asia/Ho_Chi_Minh), and the venue's
`last_scan_at` and status. Upserts add to the stored counts in the database, so two servers
recording scans for the same venue at once both count.

A scan that arrives late for a day before the person's latest day at this venue adds to that
day's scans but not to its visitors (whether the person was already counted that day is no
longer known without raw check-ins).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from phongdich.core.clock import local_day
from phongdich.models import Venue, VenueDailyActivity, VenueVisitor
from phongdich.venues.queries import ACTIVE, APPROVED, ARCHIVED, DORMANT

VISIT, POSTER_CHECK = "visit", "poster_check"
KINDS = (VISIT, POSTER_CHECK)
# Statuses a visit turns back into `active` (pending, rejected and closed venues stay as they are).
REVIVABLE = (APPROVED, DORMANT, ARCHIVED)

_DAILY = VenueDailyActivity.__table__
_VISITORS = VenueVisitor.__table__
_CHUNK = 500


@dataclass(frozen=True)
class Scan:
    """One scan of a venue's QR: a visit (a check-in) or the owner's poster check."""

    venue_id: int
    person_key: str
    at: datetime
    kind: str = VISIT


def _insert(dialect: str, table: Any) -> Any:
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


# Built once per dialect and reused: constructing an upsert (its `excluded` columns) costs more
# than running it, and every check-in runs two.
_STATEMENTS: dict[tuple[str, str], Any] = {}


def _statement(session: Session, which: str) -> Any:
    dialect = session.get_bind().dialect.name
    stmt = _STATEMENTS.get((dialect, which))
    if stmt is None:
        stmt = _STATEMENTS[(dialect, which)] = _BUILDERS[which](dialect)
    return stmt


def _daily_upsert(session: Session) -> Any:
    return _statement(session, "daily")


def _visitor_upsert(session: Session) -> Any:
    return _statement(session, "visitor")


def _build_daily(dialect: str) -> Any:
    ins = _insert(dialect, _DAILY)
    return ins.on_conflict_do_update(
        index_elements=["venue_id", "day"],
        set_={
            "scans": _DAILY.c.scans + ins.excluded.scans,
            "visitors": _DAILY.c.visitors + ins.excluded.visitors,
            "poster_checks": _DAILY.c.poster_checks + ins.excluded.poster_checks,
        },
    )


def _build_visitor(dialect: str) -> Any:
    # Moves last_day forward only; a row comes back (RETURNING) when the person is new that day.
    ins = _insert(dialect, _VISITORS)
    return ins.on_conflict_do_update(
        index_elements=["venue_id", "person_key"],
        set_={"last_day": ins.excluded.last_day},
        where=_VISITORS.c.last_day < ins.excluded.last_day,
    )


def _build_visitor_returning(dialect: str) -> Any:
    return _build_visitor(dialect).returning(_VISITORS.c.id)


_BUILDERS = {
    "daily": _build_daily,
    "visitor": _build_visitor,
    "visitor_returning": _build_visitor_returning,
}


def _apply_to_venue(venue: Venue, kind: str, at: datetime) -> None:
    if kind == POSTER_CHECK:
        if venue.last_poster_check_at is None or at > venue.last_poster_check_at:
            venue.last_poster_check_at = at
        return
    if venue.last_scan_at is None or at >= venue.last_scan_at:
        venue.last_scan_at = at
        if venue.status in REVIVABLE:
            venue.status = ACTIVE


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown scan kind {kind!r}")


def record_scan(
    session: Session, venue: Venue, *, person_key: str, at: datetime, kind: str = VISIT
) -> None:
    """Count one scan: at most three statements, whatever the venue's history (flush only).

    A poster check (the owner or staff confirming the poster is still up) is counted apart and
    is not a visit: it neither adds a visitor nor makes the venue active.
    """
    _check_kind(kind)
    day = local_day(at)
    new_visitor = False
    if kind == VISIT:
        stmt = _statement(session, "visitor_returning")
        params = {"venue_id": venue.id, "person_key": person_key, "last_day": day}
        new_visitor = session.execute(stmt, params).first() is not None
    session.execute(
        _daily_upsert(session),
        {
            "venue_id": venue.id,
            "day": day,
            "scans": int(kind == VISIT),
            "visitors": int(new_visitor),
            "poster_checks": int(kind == POSTER_CHECK),
        },
    )
    _apply_to_venue(venue, kind, at)
    session.flush()


def _existing_last_days(
    session: Session, pairs: Sequence[tuple[int, str]]
) -> dict[tuple[int, str], date]:
    # Per venue (a device's batch is nearly always one venue): `venue_id = ? AND person_key IN
    # (…)` uses the unique index directly, where a row-value IN list is slow on PostgreSQL.
    by_venue: dict[int, list[str]] = defaultdict(list)
    for venue_id, person_key in pairs:
        by_venue[venue_id].append(person_key)
    found: dict[tuple[int, str], date] = {}
    for venue_id, keys in by_venue.items():
        for i in range(0, len(keys), _CHUNK):
            rows = session.execute(
                select(_VISITORS.c.person_key, _VISITORS.c.last_day).where(
                    _VISITORS.c.venue_id == venue_id,
                    _VISITORS.c.person_key.in_(keys[i : i + _CHUNK]),
                )
            )
            found.update({(venue_id, p): d for p, d in rows})
    return found


def record_scans(session: Session, scans: Iterable[Scan]) -> int:
    """Count many scans at once (an offline scanner's upload, the demo): the same result as
    `record_scan` one by one in time order, in a handful of statements per 500 venues."""
    ordered = sorted(scans, key=lambda s: s.at)
    if not ordered:
        return 0
    for s in ordered:
        _check_kind(s.kind)
    venue_ids = sorted({s.venue_id for s in ordered})
    venues: dict[int, Venue] = {}
    for i in range(0, len(venue_ids), _CHUNK):
        chunk = venue_ids[i : i + _CHUNK]
        venues.update({v.id: v for v in session.scalars(select(Venue).where(Venue.id.in_(chunk)))})
    pairs = sorted({(s.venue_id, s.person_key) for s in ordered if s.kind == VISIT})
    last_day = _existing_last_days(session, pairs)
    moved: dict[tuple[int, str], date] = {}
    daily: dict[tuple[int, date], list[int]] = defaultdict(lambda: [0, 0, 0])
    for s in ordered:
        day = local_day(s.at)
        counts = daily[(s.venue_id, day)]
        if s.kind == POSTER_CHECK:
            counts[2] += 1
        else:
            counts[0] += 1
            pair = (s.venue_id, s.person_key)
            previous = last_day.get(pair)
            if previous is None or day > previous:
                counts[1] += 1
                last_day[pair] = moved[pair] = day
        _apply_to_venue(venues[s.venue_id], s.kind, s.at)
    if moved:
        session.execute(
            _visitor_upsert(session),
            [{"venue_id": v, "person_key": p, "last_day": d} for (v, p), d in moved.items()],
        )
    session.execute(
        _daily_upsert(session),
        [
            {"venue_id": v, "day": d, "scans": c[0], "visitors": c[1], "poster_checks": c[2]}
            for (v, d), c in daily.items()
        ],
    )
    session.flush()
    return len(ordered)


@dataclass(frozen=True)
class VenueActivity:
    """What a venue page and the follow-up list show: the last scan, and scans and distinct
    people over the last 1, 7 and 30 local days (today counts as the first day)."""

    venue_id: int
    last_scan_at: datetime | None
    last_poster_check_at: datetime | None
    scans: dict[int, int]  # {1: …, 7: …, 30: …}
    people: dict[int, int]


WINDOWS = (1, 7, 30)


def venue_activity(
    session: Session, venue_ids: Sequence[int], *, now: datetime
) -> dict[int, VenueActivity]:
    """Activity of the given venues as of `now`, in three small indexed queries."""
    today = local_day(now)
    starts = {n: today - timedelta(days=n - 1) for n in WINDOWS}
    scans: dict[int, dict[int, int]] = {}
    people: dict[int, dict[int, int]] = {}
    last: dict[int, tuple[datetime | None, datetime | None]] = {}
    for i in range(0, len(venue_ids), _CHUNK):
        chunk = list(venue_ids[i : i + _CHUNK])
        scan_rows = session.execute(
            select(
                _DAILY.c.venue_id,
                *[
                    func.coalesce(
                        func.sum(case((_DAILY.c.day >= starts[n], _DAILY.c.scans), else_=0)), 0
                    )
                    for n in WINDOWS
                ],
            )
            .where(
                _DAILY.c.venue_id.in_(chunk),
                _DAILY.c.day >= starts[30],
                _DAILY.c.day <= today,
            )
            .group_by(_DAILY.c.venue_id)
        )
        for vid, *sums in scan_rows:
            scans[vid] = {n: int(x) for n, x in zip(WINDOWS, sums, strict=True)}
        people_rows = session.execute(
            select(
                _VISITORS.c.venue_id,
                *[
                    func.count(case((_VISITORS.c.last_day >= starts[n], 1), else_=None))
                    for n in WINDOWS
                ],
            )
            .where(
                _VISITORS.c.venue_id.in_(chunk),
                _VISITORS.c.last_day >= starts[30],
                _VISITORS.c.last_day <= today,
            )
            .group_by(_VISITORS.c.venue_id)
        )
        for vid, *counts in people_rows:
            people[vid] = {n: int(x) for n, x in zip(WINDOWS, counts, strict=True)}
        for vid, scan_at, check_at in session.execute(
            select(Venue.id, Venue.last_scan_at, Venue.last_poster_check_at).where(
                Venue.id.in_(chunk)
            )
        ):
            last[vid] = (scan_at, check_at)
    zero = dict.fromkeys(WINDOWS, 0)
    return {
        vid: VenueActivity(
            venue_id=vid,
            last_scan_at=last[vid][0],
            last_poster_check_at=last[vid][1],
            scans=scans.get(vid, zero),
            people=people.get(vid, zero),
        )
        for vid in venue_ids
        if vid in last
    }
