"""The active-venue report: registered, active and dormant venues and their scans by district,
commune and type, for any range of local days, within the reader's area.

It reads the per-venue daily counters (`venue_daily_activity`), never raw check-ins: one grouped
query over at most (venues × days in the range) counter rows, however many check-ins there were.

- registered: venues approved (or created by an official) before the range ended, not rejected,
  and not closed before it began;
- active: registered venues with at least one visit scan in the range (poster checks don't count);
- dormant: registered minus active.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Date, and_, bindparam, false, func, or_, select
from sqlalchemy.orm import Session, aliased

from phongdich.areas.queries import ancestors, display_name, get_area
from phongdich.auth.policy import Principal, Target, areas_for, require, require_somewhere
from phongdich.auth.service import area_ref
from phongdich.core.clock import VN_TZ
from phongdich.core.errors import AppError
from phongdich.models import Area, User, Venue, VenueDailyActivity, VenueType
from phongdich.reports.schemas import DormantList, DormantVenue, VenueReport, VenueReportRow
from phongdich.venues.queries import CLOSED, PENDING, REJECTED

ACTION = "report.read"
MAX_DAYS = 3 * 366
_DATE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$")


def parse_day(text: str) -> date:
    """A day typed as dd/mm/yyyy (or yyyy-mm-dd, as date pickers send it)."""
    m = _DATE.match(text)
    try:
        if m:
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        return date.fromisoformat(text.strip())
    except ValueError as err:
        raise AppError(
            "report.bad_date",
            "Ngày không hợp lệ: «{value}». Hãy nhập theo dạng ngày/tháng/năm, ví dụ 15/11/2021.",
            {"value": text},
        ) from err


def check_range(date_from: date, date_to: date) -> None:
    if date_from > date_to:
        raise AppError(
            "report.bad_range",
            "Ngày bắt đầu phải trước hoặc trùng ngày kết thúc.",
            {"from": date_from.isoformat(), "to": date_to.isoformat()},
        )
    if (date_to - date_from).days >= MAX_DAYS:
        raise AppError(
            "report.range_too_long",
            "Khoảng thời gian tối đa là 3 năm.",
            {"from": date_from.isoformat(), "to": date_to.isoformat()},
        )


def default_range(now: datetime) -> tuple[date, date]:
    """The last 7 local days, today included: what "active" means for the province."""
    today = now.astimezone(VN_TZ).date()
    return today - timedelta(days=6), today


def _utc_start(day: date) -> datetime:
    return datetime.combine(day, time(0), VN_TZ).astimezone(UTC)


def district_by_code(session: Session, code: str) -> Area:
    return get_area(session, "2021", "district", code)


def _area_filter(commune: type[Area], principal: Principal, within: Area | None) -> list[Any]:
    """WHERE terms keeping communes inside the reader's areas (and inside `within`)."""
    require_somewhere(principal, ACTION)
    terms: list[Any] = []
    refs = areas_for(principal, ACTION)
    if refs is not None:
        terms.append(
            or_(
                *[
                    and_(
                        commune.scheme == r.scheme,
                        or_(commune.path == r.path, commune.path.startswith(r.path + "/")),
                    )
                    for r in refs
                ]
            )
            if refs
            else false()
        )
    if within is not None:
        require(principal, ACTION, Target(area=area_ref(within)))
        terms.append(commune.scheme == within.scheme)
        terms.append(or_(commune.path == within.path, commune.path.startswith(within.path + "/")))
    return terms


def _registered(date_from: date, date_to: date) -> list[ColumnElement[bool]]:
    end = _utc_start(date_to + timedelta(days=1))
    start = _utc_start(date_from)
    return [
        Venue.status.not_in((PENDING, REJECTED)),
        func.coalesce(Venue.approved_at, Venue.created_at) < end,
        or_(Venue.status != CLOSED, Venue.closed_at.is_(None), Venue.closed_at >= start),
    ]


def _days(date_from: date, date_to: date) -> tuple[Any, Any]:
    # Rendered into the SQL text: PostgreSQL otherwise switches a prepared statement to a
    # generic plan that cannot see how many days the range spans (and then misjudges the join).
    return (
        bindparam("day_from", date_from, type_=Date, literal_execute=True),
        bindparam("day_to", date_to, type_=Date, literal_execute=True),
    )


def _activity(date_from: date, date_to: date) -> Any:
    d = VenueDailyActivity
    day_from, day_to = _days(date_from, date_to)
    return (
        select(
            d.venue_id.label("venue_id"),
            func.sum(d.scans).label("scans"),
            func.sum(d.visitors).label("visitors"),
        )
        .where(d.day >= day_from, d.day <= day_to, d.scans > 0)
        .group_by(d.venue_id)
        .subquery("activity")
    )


def _scope_name(session: Session, principal: Principal, within: Area | None) -> str:
    if within is not None:
        return display_name(within, ancestors(session, [within]))
    refs = areas_for(principal, ACTION)
    if refs is None:
        return "Toàn quốc"
    areas = list(
        session.scalars(
            select(Area).where(
                or_(*[(Area.scheme == r.scheme) & (Area.path == r.path) for r in refs])
            )
        )
    )
    parents = ancestors(session, areas)
    return "; ".join(sorted(display_name(a, parents) for a in areas))


def venue_activity_report(
    session: Session,
    principal: Principal,
    *,
    date_from: date,
    date_to: date,
    now: datetime,
    within: Area | None = None,
) -> VenueReport:
    """The report for the reader's area (or a district/commune inside it), in one query."""
    check_range(date_from, date_to)
    commune = aliased(Area, name="commune")
    act = _activity(date_from, date_to)
    query = (
        select(
            Venue.area_id,
            Venue.type_id,
            func.count(Venue.id),
            func.count(act.c.venue_id),
            func.coalesce(func.sum(act.c.scans), 0),
            func.coalesce(func.sum(act.c.visitors), 0),
        )
        .outerjoin(act, act.c.venue_id == Venue.id)
        .where(*_registered(date_from, date_to))
        .group_by(Venue.area_id, Venue.type_id)
    )
    scope = _area_filter(commune, principal, within)
    if scope:  # nationwide readers need no join to the areas at all
        query = query.join(commune, commune.id == Venue.area_id).where(*scope)
    cells = session.execute(query).all()
    communes = {
        a.id: a for a in session.scalars(select(Area).where(Area.id.in_({c[0] for c in cells})))
    }
    parents = ancestors(session, list(communes.values()))
    types = {t.id: t for t in session.scalars(select(VenueType))}
    # Add up in plain lists (registered, active, scans, visitors), then build the rows once.
    sums: dict[tuple[str, int], list[int]] = {}
    for commune_id, type_id, registered, active, scans, visitors in cells:
        c = communes[commune_id]
        d = parents.get(c.parent_id) if c.parent_id else None
        keys = [("", 0), ("d", (d or c).id), ("c", c.id), ("t", type_id)]
        for key in keys:
            acc = sums.setdefault(key, [0, 0, 0, 0])
            acc[0] += registered
            acc[1] += active
            acc[2] += int(scans)
            acc[3] += int(visitors)

    def row(
        key: tuple[str, int], code: str, name: str, parent: str | None = None
    ) -> VenueReportRow:
        r, a, sc, vi = sums[key]
        return VenueReportRow(
            key=code, name=name, parent_name=parent, registered=r, active=a, scans=sc, visitors=vi
        )

    areas = {**parents, **communes}
    by_district = [row(k, areas[k[1]].code, areas[k[1]].name) for k in sums if k[0] == "d"]
    by_commune = []
    for k in (k for k in sums if k[0] == "c"):
        c = communes[k[1]]
        parent = parents.get(c.parent_id) if c.parent_id else None
        by_commune.append(row(k, c.code, c.name, parent.name if parent else None))
    by_type = [row(k, types[k[1]].code, types[k[1]].name) for k in sums if k[0] == "t"]
    total = row(("", 0), "", "Tổng cộng") if cells else VenueReportRow(key="", name="Tổng cộng")
    return VenueReport(
        date_from=date_from,
        date_to=date_to,
        scope=_scope_name(session, principal, within),
        generated_at=now,
        total=total,
        by_district=sorted(by_district, key=lambda r: r.key),
        by_commune=sorted(by_commune, key=lambda r: (r.parent_name or "", r.name)),
        by_type=sorted(by_type, key=lambda r: r.name),
    )


def dormant_venues(
    session: Session,
    principal: Principal,
    *,
    date_from: date,
    date_to: date,
    within: Area | None = None,
    limit: int | None = None,
) -> DormantList:
    """Registered venues with no visit scan in the range, with owner contacts for follow-up."""
    check_range(date_from, date_to)
    commune = aliased(Area, name="commune")
    d = VenueDailyActivity
    day_from, day_to = _days(date_from, date_to)
    scanned = (
        select(d.id)
        .where(d.venue_id == Venue.id, d.day >= day_from, d.day <= day_to, d.scans > 0)
        .exists()
    )
    where = [
        *_registered(date_from, date_to),
        *_area_filter(commune, principal, within),
        ~scanned,
    ]
    base = select(Venue.id).join(commune, commune.id == Venue.area_id).where(*where)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    query = (
        select(Venue, commune, VenueType, User)
        .join(commune, commune.id == Venue.area_id)
        .join(VenueType, VenueType.id == Venue.type_id)
        .outerjoin(User, User.id == Venue.owner_user_id)
        .where(*where)
        .order_by(commune.path, Venue.name_folded, Venue.id)
    )
    if limit is not None:
        query = query.limit(limit)
    rows = session.execute(query).all()
    parents = ancestors(session, [r[1] for r in rows])
    venues = []
    for venue, c, vtype, owner in rows:
        district = parents.get(c.parent_id) if c.parent_id else None
        venues.append(
            DormantVenue(
                id=venue.id,
                name=venue.name,
                short_code=venue.short_code,
                type_name=vtype.name,
                status=venue.status,
                street_address=venue.street_address,
                commune=c.name,
                district=district.name if district is not None else "",
                last_scan_at=venue.last_scan_at,
                owner_name=owner.full_name if owner is not None else None,
                owner_phone=owner.phone if owner is not None else None,
                contact_phone=venue.contact_phone,
            )
        )
    return DormantList(
        date_from=date_from,
        date_to=date_to,
        scope=_scope_name(session, principal, within),
        total=total,
        venues=venues,
    )


def districts_in_scope(session: Session, principal: Principal) -> list[Area]:
    """The 2021-scheme districts the reader may pick to narrow the report."""
    require_somewhere(principal, ACTION)
    query = select(Area).where(Area.scheme == "2021", Area.level == "district")
    refs = areas_for(principal, ACTION)
    if refs is not None:
        query = query.where(
            or_(
                false(),
                *[
                    and_(
                        Area.scheme == r.scheme,
                        or_(Area.path == r.path, Area.path.startswith(r.path + "/")),
                    )
                    for r in refs
                ],
            )
        )
    return list(session.scalars(query.order_by(Area.path)))
