"""Access-scoped look-ups of venues: the lists an official, an owner or a staff member may see."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select
from sqlalchemy.orm import Session

from phongdich.areas.queries import ancestors, display_name
from phongdich.auth.policy import AreaRef, Principal, Target, areas_for, objects_for, require
from phongdich.auth.service import area_ref
from phongdich.core.errors import NotFound
from phongdich.core.text import fold
from phongdich.models import Area, Venue, VenueType

# Statuses a venue may have. The activity states (active / dormant / archived) are kept up to
# date by the scan counters; the rest are set by people through `venues.service`.
PENDING, APPROVED, REJECTED, CLOSED = "pending", "approved", "rejected", "closed"
ACTIVE, DORMANT, ARCHIVED = "active", "dormant", "archived"
STATUSES = (PENDING, APPROVED, ACTIVE, DORMANT, ARCHIVED, REJECTED, CLOSED)
# Statuses in which a venue takes check-ins and has a valid poster.
OPERATING = (APPROVED, ACTIVE, DORMANT, ARCHIVED)


def venue_target(venue: Venue, area: Area) -> Target:
    """A venue as the policy sees it: in its commune, and itself (for owner and staff grants)."""
    return Target(area=area_ref(area), object_type="venue", object_id=venue.id)


def _in_areas(refs: list[AreaRef]) -> ColumnElement[bool]:
    # Same scheme and the same path or a path below it: 2021 and 2025 codes never mix.
    return or_(
        *[
            (Area.scheme == a.scheme)
            & ((Area.path == a.path) | Area.path.startswith(a.path + "/", autoescape=True))
            for a in refs
        ]
    )


def scope_clause(principal: Principal, action: str) -> ColumnElement[bool] | None:
    """The venues the principal may take `action` on, as a WHERE clause over Venue joined to
    Area; None means every venue. One clause instead of a per-row check keeps lists paginable."""
    refs = areas_for(principal, action)
    if refs is None:
        return None
    venue_ids = objects_for(principal, action, "venue")
    conds: list[ColumnElement[bool]] = []
    if refs:
        conds.append(_in_areas(refs))
    if venue_ids:
        conds.append(Venue.id.in_(venue_ids))
    return or_(*conds) if conds else false()


@dataclass(frozen=True)
class VenueFilter:
    status: str | None = None
    within: Area | None = None  # a commune or district, to narrow an official's list
    type_code: str | None = None
    search: str | None = None  # accent-insensitive words of the name, or a short code
    owner_user_id: int | None = None


def _filtered(principal: Principal, action: str, flt: VenueFilter) -> Select[Venue]:
    query = select(Venue).join(Area, Area.id == Venue.area_id)
    scope = scope_clause(principal, action)
    if scope is not None:
        query = query.where(scope)
    if flt.status:
        query = query.where(Venue.status == flt.status)
    if flt.within is not None:
        query = query.where(_in_areas([area_ref(flt.within)]))
    if flt.type_code:
        query = query.join(VenueType, VenueType.id == Venue.type_id).where(
            VenueType.code == flt.type_code
        )
    if flt.owner_user_id is not None:
        query = query.where(Venue.owner_user_id == flt.owner_user_id)
    if flt.search:
        words = fold(flt.search).split()
        code = "".join(flt.search.upper().split()).replace("-", "")
        by_name = [Venue.name_folded.contains(w, autoescape=True) for w in words]
        query = query.where(or_(Venue.short_code == code, *([and_(*by_name)] if words else [])))
    return query


def visible_venues(
    session: Session,
    principal: Principal,
    flt: VenueFilter = VenueFilter(),
    *,
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[Venue], int]:
    """One page of the venues the principal may read, newest first, and the total count."""
    query = _filtered(principal, "venue.read", flt)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Venue.created_at.desc(), Venue.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return list(rows), total


def area_names(session: Session, areas: list[Area]) -> dict[int, str]:
    """Full names ("Xã …, Huyện …, Tỉnh …") of the given areas, ancestors in one query."""
    parents = ancestors(session, areas)
    return {a.id: display_name(a, parents) for a in areas}


def areas_of(session: Session, venues: list[Venue]) -> dict[int, Area]:
    ids = {v.area_id for v in venues}
    if not ids:
        return {}
    return {a.id: a for a in session.scalars(select(Area).where(Area.id.in_(ids)))}


def types_of(session: Session, venues: list[Venue]) -> dict[int, VenueType]:
    ids = {v.type_id for v in venues}
    if not ids:
        return {}
    return {t.id: t for t in session.scalars(select(VenueType).where(VenueType.id.in_(ids)))}


def load_venue(
    session: Session, principal: Principal | None, venue_id: int, action: str = "venue.read"
) -> tuple[Venue, Area]:
    """The venue and its commune, if the principal may take `action` on it (403 otherwise)."""
    venue = session.get(Venue, venue_id)
    if venue is None:
        raise NotFound("venue.not_found", "Không tìm thấy địa điểm.", {"venue_id": venue_id})
    area = session.get(Area, venue.area_id)
    assert area is not None  # a foreign key
    require(principal, action, venue_target(venue, area))
    return venue, area


@dataclass(frozen=True)
class PossibleDuplicate:
    """An existing venue that looks like the one being registered."""

    venue_id: int
    name: str
    short_code: str
    status: str
    reason: str  # "name" (same name in the same commune) or "phone" (same contact phone)


def find_duplicates(
    session: Session,
    *,
    name_folded: str,
    area_id: int,
    contact_phone: str | None,
    limit: int = 5,
) -> list[PossibleDuplicate]:
    """Venues with the same accent-free name in the same commune, or the same contact phone.

    Closed and rejected venues are left out: registering again after those is expected.
    """
    same_name = (Venue.name_folded == name_folded) & (Venue.area_id == area_id)
    cond = or_(same_name, Venue.contact_phone == contact_phone) if contact_phone else same_name
    rows = session.scalars(
        select(Venue)
        .where(cond, Venue.status.not_in((CLOSED, REJECTED)))
        .order_by(Venue.id)
        .limit(limit)
    )
    return [
        PossibleDuplicate(
            venue_id=v.id,
            name=v.name,
            short_code=v.short_code,
            status=v.status,
            reason="name" if v.name_folded == name_folded and v.area_id == area_id else "phone",
        )
        for v in rows
    ]
