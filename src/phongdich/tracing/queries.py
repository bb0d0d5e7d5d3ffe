"""Reads for tracing: visits turned into stays (bounded by the (venue_id, checked_in_at) and
(person_id, checked_in_at) indexes), households, and access-scoped cases.

A visit's end is what the check-ins recorded (a check-out, or the rule that closed it when the
person's next scan arrived); a visit still open gets its end from `exposure.derive_end` with the
person's next check-in, read in the same query by a correlated sub-select that only runs for
open visits.

Candidates for a person take four reads: their own visits; everyone else's visits that can
overlap their exposure, as full rows; the ids of everyone at those venues on those local days
(a busy venue has hundreds a day, and the rules need only who they were); the household.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import Session

from phongdich.auth.policy import AreaRef, Principal, Target, areas_for, require
from phongdich.auth.service import area_ref
from phongdich.core.clock import VN_TZ
from phongdich.core.errors import NotFound
from phongdich.models import Area, Case, Person
from phongdich.tracing.exposure import (
    EndRule,
    Stay,
    case_exposure_interval,
    derive_end,
    next_local_midnight,
    split_by_local_day,
)
from phongdich.tracing.rules import ExposureRules

_END_RULES = {r.value: r for r in EndRule}


def stay_of(row: Sequence[Any], rules: ExposureRules) -> Stay:
    """A visit row (see `STAY_SELECT`) as a stay with a known end and the rule that gave it."""
    vid, person, venue, start, out, end_rule, last_seen, minutes, next_in = row
    assert isinstance(start, datetime) and isinstance(last_seen, datetime)
    if isinstance(out, datetime) and out >= start:
        rule = _END_RULES.get(str(end_rule), EndRule.EXPLICIT)
        return Stay(int(vid), int(person), int(venue), start, out, rule)
    # Open: the type's default stay counts from the last sighting (a re-scan extends the visit).
    stay = (last_seen - start) + rules.default_stay(None, int(minutes))
    end, rule = derive_end(
        start,
        checked_out_at=None,
        next_checkin_at=next_in if isinstance(next_in, datetime) else None,
        default_stay=stay,
    )
    return Stay(int(vid), int(person), int(venue), start, end, rule)


def stays_of_person(
    session: Session, person_id: int, window: tuple[datetime, datetime], rules: ExposureRules
) -> list[Stay]:
    """The person's stays that overlap the window, in time order (the person index, bounded)."""
    driver = _Driver(session)
    rows = driver.fetch([own_sql(person_id, window, rules, driver.style)])
    stays = [stay_of(r, rules) for r in rows]
    return [s for s in stays if s.end > window[0]]


def own_sql(
    person_id: int, window: tuple[datetime, datetime], rules: ExposureRules, style: SqlStyle
) -> tuple[str, list[Any]]:
    """The query for the person's visits that can reach into the window."""
    ph = style.ph
    sql = (
        f"{STAY_SELECT} WHERE v.person_id = {ph} AND v.checked_in_at >= {ph} "
        f"AND v.checked_in_at < {ph} ORDER BY v.checked_in_at, v.id"
    )
    return sql, [person_id, style.when(window[0] - rules.max_stay), style.when(window[1])]


# The reads here run for every case and every F1, and return hundreds of rows; they go
# straight to the driver (the ORM's statement building and per-row type processing cost
# several times the query itself). Timestamps are converted the way `db.UTCDateTime` does.
STAY_COLUMNS = (
    "v.id, v.person_id, v.venue_id, v.checked_in_at, v.checked_out_at, v.end_rule, "
    "v.last_seen_at, v.default_stay_minutes, CASE WHEN v.checked_out_at IS NULL THEN "
    "(SELECT min(n.checked_in_at) FROM visits n WHERE n.person_id = v.person_id "
    "AND n.checked_in_at > v.checked_in_at) END"
)
STAY_SELECT = f"SELECT {STAY_COLUMNS} FROM visits v"  # noqa: S608  constants only


@dataclass(frozen=True)
class SqlStyle:
    """How the backend's driver takes parameters and times (shared with the benchmark's raw
    queries, so both send the same SQL with the same values)."""

    sqlite: bool

    @property
    def ph(self) -> str:
        return "?" if self.sqlite else "%s"

    def when(self, moment: datetime) -> Any:
        """A bound time, the way `db.UTCDateTime` stores it."""
        if self.sqlite:
            # "YYYY-MM-DD HH:MM:SS.ffffff": isoformat cut before the offset, five times faster
            # than strftime (a read binds a hundred times or more).
            utc = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
            return utc.isoformat(" ", "microseconds")[:26]
        return moment

    def default_end_after(self, moment: str, fallback: str) -> str:
        """SQL true when an open visit's default stay, counted from its last sighting, ends
        after `moment` (as `stay_of` computes it; the stay is `fallback` seconds when the visit
        recorded none)."""
        seconds = f"COALESCE(NULLIF(v.default_stay_minutes, 0) * 60, {fallback})"
        if self.sqlite:
            return f"julianday(v.last_seen_at) + {seconds} / 86400.0 > julianday({moment})"
        return f"v.last_seen_at + {seconds} * interval '1 second' > {moment}"

    def for_each_range(
        self, select: str, ranges: list[dict[str, Any]], consts: dict[str, Any]
    ) -> Statements:
        """`select` run for every range, its {fields} bound to the range's values or to
        `consts`. The text is the same for every case, so it is parsed and planned once, not
        per case: planning a statement with a branch per range costs more than running it.
        SQLite: the statement once per range, each a plain index range scan (in-process, a
        statement costs microseconds; joined to a table of the ranges instead, the planner
        may scan the whole index to build a Bloom filter). PostgreSQL: one statement, joined
        laterally to the ranges passed as arrays (one round trip)."""
        if not ranges:
            return []
        fields = tuple(ranges[0])
        text, order = _bind_fields(select, self.sqlite, fields)
        if self.sqlite:
            values = [
                {k: self.when(v) if isinstance(v, datetime) else v for k, v in r.items()}
                for r in ranges
            ]
            return [(text, [r[n] if n in r else consts[n] for n in order]) for r in values]
        arrays = ", ".join(f"%s::{_PG_ARRAY[type(ranges[0][f])]}" for f in fields)
        sql = (
            f"SELECT d.* FROM unnest({arrays}) AS r({', '.join(fields)}) "  # noqa: S608  placeholders only
            f"CROSS JOIN LATERAL ({text}) AS d"
        )
        return [(sql, [[r[f] for r in ranges] for f in fields] + [consts[n] for n in order])]


Statements = list[tuple[str, list[Any]]]  # run one after the other, their rows together


@lru_cache(maxsize=64)
def _bind_fields(select: str, sqlite: bool, fields: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """`select` with its {names} as placeholders (on PostgreSQL, the range's fields as columns
    of the ranges, `r`), and the names bound to placeholders, in order."""
    order: list[str] = []

    def bind(match: re.Match[str]) -> str:
        name = match[1]
        if sqlite or name not in fields:
            order.append(name)
            return "?" if sqlite else "%s"
        return f"r.{name}"

    return _FIELD.sub(bind, select), tuple(order)


_FIELD = re.compile(r"\{(\w+)\}")
_PG_ARRAY = {int: "int[]", datetime: "timestamptz[]"}


class _Driver:
    """The session's connection, with its SQL style and fetched times converted."""

    def __init__(self, session: Session) -> None:
        self.connection = session.connection()
        self.style = SqlStyle(sqlite=self.connection.dialect.name == "sqlite")
        self.ph = self.style.ph
        self.when = self.style.when

    def rows(self, statements: Statements) -> list[tuple[Any, ...]]:
        """The statements' rows as the driver returns them, in the session's transaction
        (SQLAlchemy's result layer costs more than the index-only read of a thousand ids)."""
        cursor = self.connection.connection.cursor()
        rows: list[tuple[Any, ...]] = []
        try:
            for sql, params in statements:
                cursor.execute(sql, tuple(params))
                rows += cursor.fetchall()
        finally:
            cursor.close()
        return rows

    def ids(self, statements: Statements) -> frozenset[int]:
        """The first column of every row, as a set."""
        return frozenset(r[0] for r in self.rows(statements))

    def fetch(self, statements: Statements) -> list[tuple[Any, ...]]:
        """Rows of `STAY_SELECT`, with aware times."""
        rows = self.rows(statements)
        if not self.style.sqlite:
            return rows
        # SQLite hands back "YYYY-MM-DD HH:MM:SS.ffffff" in UTC; parsing it with the offset is
        # five times faster than parsing and then replacing tzinfo.
        parse = datetime.fromisoformat
        z = "+00:00"
        return [
            (
                r[0],
                r[1],
                r[2],
                parse(r[3] + z),
                parse(r[4] + z) if r[4] else None,
                r[5],
                parse(r[6] + z),
                r[7],
                parse(r[8] + z) if r[8] else None,
            )
            for r in rows
        ]


Spans = dict[int, list[tuple[datetime, datetime]]]  # venue → merged [from, to) intervals


def _merge(spans: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    spans.sort()
    out = [spans[0]]
    for lo, hi in spans[1:]:
        if lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


@dataclass(frozen=True)
class ContactReads:
    """What to read at each of the sources' venues.

    `exposures`: when others could have been exposed (each source's exposure interval, clipped
    to the window); only visits that can overlap these are read as full rows. `days`: the local
    days a source was there; everyone there those days is at least a same-venue-same-day
    candidate, and only their ids are read."""

    exposures: Spans
    days: Spans


def contact_reads(
    sources: Iterable[Stay], rules: ExposureRules, window: tuple[datetime, datetime]
) -> ContactReads:
    """The exposure intervals and the local days of the sources, merged per venue (the same
    intervals and days `exposure.find_candidates` compares others with)."""
    exposures: Spans = defaultdict(list)
    days: Spans = defaultdict(list)
    for s in sources:
        exp_start, exp_end = case_exposure_interval(s, rules)
        lo, hi = max(exp_start, window[0]), min(exp_end, window[1])
        if lo < hi:
            exposures[s.venue_id].append((lo, hi))
        for day, _a, _b in split_by_local_day(s.start, s.end):
            midnight = datetime.combine(day, time(0), tzinfo=VN_TZ).astimezone(UTC)
            days[s.venue_id].append((midnight, midnight + timedelta(days=1)))
    return ContactReads(
        {v: _merge(x) for v, x in exposures.items()}, {v: _merge(x) for v, x in days.items()}
    )


# Both reads below are index ranges on (venue_id, checked_in_at), per venue and interval. A
# visit that began before an interval can still reach into it: one with a check-out if it began
# within the longest stay (`rules.max_stay`) before and was checked out after the interval
# began; an open one only if it began the same local day (its derived end is capped at local
# midnight) and its default stay reaches the interval. Only those rows are returned, each range
# as its own index scan, so that an index holding the columns tested reads no other row.
_OPEN = "(v.checked_out_at IS NULL OR v.checked_out_at < v.checked_in_at)"  # as `stay_of` reads
_VISITS_AT = (
    "SELECT {columns} FROM visits v WHERE v.venue_id = {venue} AND v.person_id != {person} AND "
)


def overlap_sql(
    reads: ContactReads, rules: ExposureRules, style: SqlStyle, exclude_person: int
) -> Statements:
    """The query for everyone else's visits that can overlap the exposure intervals (a visit
    is read twice if two intervals at a venue are under the longest stay apart; readers keep
    one)."""
    head = _VISITS_AT.replace("{columns}", STAY_COLUMNS)
    reaches = style.default_end_after("{reach}", "{fallback}")
    if style.sqlite:
        # SQLite tests the index's columns before it reads a row: one scan of the whole span.
        select = (
            f"{head}v.checked_in_at >= {{since}} AND v.checked_in_at < {{hi}} "
            f"AND (v.checked_in_at >= {{lo}} OR v.checked_out_at > {{lo}} "
            f"OR (v.checked_in_at >= {{day}} AND {_OPEN} AND {reaches}))"
        )
    else:
        # PostgreSQL reads the row before testing anything but its index conditions: the look-
        # back is a scan of its own, with the check-out as an index condition.
        select = (
            f"{head}v.checked_in_at >= {{lo}} AND v.checked_in_at < {{hi}} UNION ALL "
            f"{head}v.checked_in_at >= {{since}} AND v.checked_in_at < {{lo}} "
            f"AND v.checked_out_at > {{lo}} UNION ALL "
            f"{head}v.checked_in_at >= {{day}} AND v.checked_in_at < {{lo}} AND {_OPEN} "
            f"AND {reaches}"
        )
    ranges = [
        {
            "venue": venue,
            "lo": lo,
            "hi": hi,
            "since": lo - rules.max_stay,
            "day": next_local_midnight(lo) - timedelta(days=1),
            # A second early: julianday is a float; a row too many is harmless, too few is not.
            "reach": lo - timedelta(seconds=1),
        }
        for venue, spans in reads.exposures.items()
        for lo, hi in spans
    ]
    consts = {"person": exclude_person, "fallback": rules.fallback_stay.total_seconds()}
    return style.for_each_range(select, ranges, consts)


def same_day_sql(
    reads: ContactReads, rules: ExposureRules, style: SqlStyle, exclude_person: int, columns: str
) -> Statements:
    """The query for everyone else's visits with some time at a source's venue on a day it was
    there: begun that day, or begun earlier and checked out after the day began. A visit checked
    out the instant it began lasts no time, so it is on no day (`exposure.split_by_local_day`).
    (The ranges of one venue meet only if the longest stay is over a day.)"""
    head = _VISITS_AT.replace("{columns}", columns)
    select = (
        f"{head}v.checked_in_at >= {{lo}} AND v.checked_in_at < {{hi}} "
        "AND (v.checked_out_at IS NULL OR v.checked_out_at != v.checked_in_at) UNION ALL "
        f"{head}v.checked_in_at >= {{since}} AND v.checked_in_at < {{lo}} "
        "AND v.checked_out_at > {lo}"
    )
    ranges = [
        {"venue": venue, "lo": lo, "hi": hi, "since": lo - rules.max_stay}
        for venue, spans in reads.days.items()
        for lo, hi in spans
    ]
    return style.for_each_range(select, ranges, {"person": exclude_person})


def stays_overlapping(
    session: Session, reads: ContactReads, rules: ExposureRules, *, exclude_person: int
) -> list[Stay]:
    """Everyone else's stays that can overlap the exposure intervals, each once."""
    driver = _Driver(session)
    rows = driver.fetch(overlap_sql(reads, rules, driver.style, exclude_person))
    return [stay_of(r, rules) for r in {r[0]: r for r in rows}.values()]


class SameDay:
    """The people at a source's venue on a day it was there, as bare ids (the candidates'
    category needs no more); their visits, for an officer's explanation, are read only when
    first asked for."""

    def __init__(
        self, session: Session, reads: ContactReads, rules: ExposureRules, exclude_person: int
    ) -> None:
        self._driver = _Driver(session)
        self._args = (reads, rules, self._driver.style, exclude_person)
        self._visits: dict[int, list[Stay]] | None = None
        self.people = self._driver.ids(same_day_sql(*self._args, columns="v.person_id"))

    def visits_of(self, person_id: int) -> list[Stay]:
        """The person's visits that put them there (all such visits are read on first use)."""
        if self._visits is None:
            self._visits = defaultdict(list)
            statements = same_day_sql(*self._args, columns=STAY_COLUMNS)
            seen: set[int] = set()
            for r in self._driver.fetch(statements):
                if r[0] not in seen:
                    seen.add(r[0])
                    stay = stay_of(r, self._args[1])
                    self._visits[stay.person_id].append(stay)
        return self._visits.get(person_id, [])


def household_sql(person: Person, ph: str) -> tuple[str, list[Any]] | None:
    """People living with the person: the same street address in the same commune, and the
    dependants of the same account (with the account holder). None: nobody can be."""
    conds, params = [], []
    if person.street_address and person.area_id is not None:
        conds.append(f"(p.area_id = {ph} AND p.street_address = {ph})")
        params += [person.area_id, person.street_address]
    account = person.user_id or person.guardian_user_id
    if account is not None:
        conds.append(f"p.guardian_user_id = {ph} OR p.user_id = {ph}")
        params += [account, account]
    if not conds:
        return None
    sql = (
        f"SELECT p.id FROM people p WHERE ({' OR '.join(conds)}) "  # noqa: S608  placeholders only
        f"AND p.merged_into_id IS NULL AND p.id != {ph}"
    )
    return sql, [*params, person.id]


def household_of(session: Session, person: Person) -> frozenset[int]:
    """People living with the person (see `household_sql`), read through the driver."""
    driver = _Driver(session)
    query = household_sql(person, driver.ph)
    return frozenset() if query is None else driver.ids([query])


# Access: a case is seen by health officers of its commune, district or province.


def case_target(area: Area, case_obj: Case) -> Target:
    return Target(area=area_ref(area), object_type="case", object_id=case_obj.id)


def load_case(
    session: Session, principal: Principal | None, case_id: int, action: str = "case.read"
) -> tuple[Case, Area]:
    """The case and its area, if the principal may take `action` on it (403 otherwise)."""
    found = session.get(Case, case_id)
    if found is None:
        raise NotFound("case.not_found", "Không tìm thấy ca bệnh.", {"case_id": case_id})
    area = session.get(Area, found.area_id)
    assert area is not None
    require(principal, action, case_target(area, found))
    return found, area


def in_areas(refs: Sequence[AreaRef]) -> ColumnElement[bool]:
    """Areas at or below any of the given ones (same scheme), as a WHERE clause over Area."""
    if not refs:
        return false()
    return or_(
        *[
            (Area.scheme == a.scheme)
            & ((Area.path == a.path) | Area.path.startswith(a.path + "/", autoescape=True))
            for a in refs
        ]
    )


def case_scope(principal: Principal, action: str = "case.read") -> ColumnElement[bool] | None:
    """The cases the principal may see, as a clause over Case joined to Area (None: all)."""
    refs = areas_for(principal, action)
    return None if refs is None else in_areas(refs)


def visible_cases(
    session: Session, principal: Principal, *, limit: int = 200, status: str | None = None
) -> list[Case]:
    query = select(Case).join(Area, Area.id == Case.area_id)
    scope = case_scope(principal)
    if scope is not None:
        query = query.where(scope)
    if status:
        query = query.where(Case.status == status)
    return list(
        session.scalars(query.order_by(Case.confirmed_on.desc(), Case.id.desc()).limit(limit))
    )


def communes_managed(session: Session, principal: Principal, limit: int = 1000) -> list[Area]:
    """The communes where the principal may register a case (for someone with no address)."""
    refs = areas_for(principal, "case.manage")
    query = select(Area).where(Area.level == "commune")
    if refs is not None:
        query = query.where(in_areas(refs))
    return list(session.scalars(query.order_by(Area.scheme, Area.path).limit(limit)))
