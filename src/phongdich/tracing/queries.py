"""Reads for tracing: visits turned into stays (bounded by the (venue_id, checked_in_at) and
(person_id, checked_in_at) indexes), households, and access-scoped cases.

A visit's end is what the check-ins recorded (a check-out, or the rule that closed it when the
person's next scan arrived); a visit still open gets its end from `exposure.derive_end` with the
person's next check-in, read in the same query by a correlated sub-select that only runs for
open visits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.orm import Session

from phongdich.auth.policy import AreaRef, Principal, Target, areas_for, require
from phongdich.auth.service import area_ref
from phongdich.core.errors import NotFound
from phongdich.models import Area, Case, Person
from phongdich.tracing.exposure import (
    EndRule,
    Stay,
    case_exposure_interval,
    derive_end,
    next_local_midnight,
)
from phongdich.tracing.rules import ExposureRules

_END_RULES = {r.value: r for r in EndRule}


def stay_of(row: Sequence[Any], rules: ExposureRules) -> Stay:
    """A visit row (see `_SELECT`) as a stay with a known end and the rule that gave it."""
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
    start, end = window
    driver = _Driver(session)
    rows = driver.fetch(
        f"{_SELECT} WHERE v.person_id = {driver.ph} AND v.checked_in_at >= {driver.ph} "
        f"AND v.checked_in_at < {driver.ph} ORDER BY v.checked_in_at, v.id",
        [person_id, driver.when(start - rules.max_stay), driver.when(end)],
    )
    stays = [stay_of(r, rules) for r in rows]
    return [s for s in stays if s.end > start]


# The two reads above run for every case and every F1, and each returns hundreds of rows; they
# go straight to the driver (the ORM's statement building and per-row type processing cost
# several times the query itself). Timestamps are converted the way `db.UTCDateTime` does.
_SELECT = (
    "SELECT v.id, v.person_id, v.venue_id, v.checked_in_at, v.checked_out_at, v.end_rule, "
    "v.last_seen_at, v.default_stay_minutes, CASE WHEN v.checked_out_at IS NULL THEN "
    "(SELECT min(n.checked_in_at) FROM visits n WHERE n.person_id = v.person_id "
    "AND n.checked_in_at > v.checked_in_at) END FROM visits v"
)
_SQLITE_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


class _Driver:
    """Placeholders, bound times and fetched times for the session's backend."""

    def __init__(self, session: Session) -> None:
        self.connection = session.connection()
        self.sqlite = self.connection.dialect.name == "sqlite"
        self.ph = "?" if self.connection.dialect.paramstyle == "qmark" else "%s"

    def when(self, moment: datetime) -> Any:
        if self.sqlite:
            return moment.astimezone(UTC).strftime(_SQLITE_FORMAT)
        return moment

    def fetch(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        rows = self.connection.exec_driver_sql(sql, tuple(params)).all()
        if not self.sqlite:
            return [tuple(r) for r in rows]
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


Span = tuple[datetime, datetime, datetime | None]  # check-in from, to; ended after (or None)


def _merge(spans: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    spans.sort()
    out = [spans[0]]
    for lo, hi in spans[1:]:
        if lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def contact_ranges(
    sources: Iterable[Stay], rules: ExposureRules, window: tuple[datetime, datetime]
) -> dict[int, list[Span]]:
    """Per venue, which visits can matter for the sources: every check-in from local midnight
    before the exposure to the end of the local day it ends on (overlaps, and people there the
    same day without overlap); and, from the longest stay earlier, only visits whose recorded
    end reaches into that day (an open visit ends by midnight, so only explicit check-outs
    can). Overlapping ranges are merged."""
    days: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    before: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for s in sources:
        exp_start, exp_end = case_exposure_interval(s, rules)
        exp_end = min(exp_end, window[1])
        day_start = next_local_midnight(exp_start) - timedelta(days=1)
        day_end = next_local_midnight(exp_end - timedelta(microseconds=1))
        days[s.venue_id].append((day_start, max(exp_end, day_end)))
        before[s.venue_id].append((exp_start - rules.max_stay, day_start))
    out: dict[int, list[Span]] = {}
    for venue, spans in days.items():
        merged = _merge(spans)
        out[venue] = [(lo, hi, None) for lo, hi in merged] + [
            (lo, hi, hi) for lo, hi in _merge(before[venue])
        ]
    return out


def stays_at_venues(
    session: Session,
    ranges: dict[int, list[Span]],
    rules: ExposureRules,
    *,
    exclude_person: int | None = None,
) -> list[Stay]:
    """Every stay in the venues' ranges, in one query: each term is an index range on
    (venue_id, checked_in_at)."""
    driver = _Driver(session)
    sql, params = ranges_sql(ranges, driver.ph, driver.when, exclude_person)
    if not params:
        return []
    return [stay_of(r, rules) for r in driver.fetch(_SELECT + sql, params)]


def ranges_sql(
    ranges: dict[int, list[Span]],
    ph: str,
    when: Callable[[datetime], Any],
    exclude_person: int | None,
) -> tuple[str, list[Any]]:
    """The WHERE clause for `ranges` with driver placeholders (shared with the benchmark's raw
    query, so both read exactly the same rows)."""
    terms, params = [], []
    for venue, spans in ranges.items():
        for lo, hi, ended_after in spans:
            term = f"v.venue_id = {ph} AND v.checked_in_at >= {ph} AND v.checked_in_at < {ph}"
            params += [venue, when(lo), when(hi)]
            if ended_after is not None:
                term += f" AND v.checked_out_at > {ph}"
                params.append(when(ended_after))
            terms.append(f"({term})")
    if not terms:
        return "", []
    sql = f" WHERE ({' OR '.join(terms)})"
    if exclude_person is not None:
        sql += f" AND v.person_id != {ph}"
        params.append(exclude_person)
    return sql, params


def household_of(session: Session, person: Person) -> frozenset[int]:
    """People living with the person: the same street address in the same commune, and the
    dependants of the same account (with the account holder)."""
    conds: list[ColumnElement[bool]] = []
    if person.street_address and person.area_id is not None:
        conds.append(
            and_(Person.area_id == person.area_id, Person.street_address == person.street_address)
        )
    account = person.user_id or person.guardian_user_id
    if account is not None:
        conds.append(or_(Person.guardian_user_id == account, Person.user_id == account))
    if not conds:
        return frozenset()
    ids = session.scalars(
        select(Person.id).where(
            or_(*conds), Person.merged_into_id.is_(None), Person.id != person.id
        )
    )
    return frozenset(ids)


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
