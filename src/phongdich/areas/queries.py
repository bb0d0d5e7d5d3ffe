"""Reusable look-ups of areas: by code, by name without accents, with their parents."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from phongdich.core.errors import NotFound
from phongdich.core.text import fold
from phongdich.models import Area


def get_area(session: Session, scheme: str, level: str, code: str) -> Area:
    """The area with this code in this scheme and level, or a NotFound in Vietnamese."""
    area = session.scalar(
        select(Area).where(Area.scheme == scheme, Area.level == level, Area.code == code)
    )
    if area is None:
        raise NotFound(
            "area.unknown",
            "Không tìm thấy đơn vị hành chính mã {code} ({level}, danh mục {scheme}).",
            {"scheme": scheme, "level": level, "code": code},
        )
    return area


def ancestors(session: Session, areas: Sequence[Area]) -> dict[int, Area]:
    """Every ancestor of the given areas, by id, in one query (no lazy loads in a loop)."""
    paths: set[tuple[str, str]] = set()
    for a in areas:
        parts = a.path.split("/")
        for i in range(1, len(parts)):
            paths.add((a.scheme, "/".join(parts[:i])))
    if not paths:
        return {}
    conds = [(Area.scheme == s) & (Area.path == p) for s, p in paths]
    return {a.id: a for a in session.scalars(select(Area).where(or_(*conds)))}


def display_name(area: Area, parents: dict[int, Area]) -> str:
    """ "Xã Hoàng Tung, Huyện Hoà An, Tỉnh Cao Bằng": a commune is never shown alone."""
    names = [area.name]
    parent_id = area.parent_id
    while parent_id is not None and parent_id in parents:
        names.append(parents[parent_id].name)
        parent_id = parents[parent_id].parent_id
    return ", ".join(names)


def search_areas(
    session: Session,
    text: str,
    *,
    scheme: str | None = None,
    level: str | None = None,
    within: Area | None = None,
    limit: int = 20,
) -> list[tuple[Area, str]]:
    """Accent-insensitive search ("hoa an" finds "Hòa An"), each hit with its full name."""
    words = fold(text).split()
    if not words:
        return []
    query = select(Area)
    for w in words:
        query = query.where(Area.name_folded.contains(w, autoescape=True))
    if scheme:
        query = query.where(Area.scheme == scheme)
    if level:
        query = query.where(Area.level == level)
    if within is not None:
        query = query.where(
            Area.scheme == within.scheme, Area.path.startswith(within.path + "/", autoescape=True)
        )
    # Whole-name matches first, then provinces before districts before communes.
    hits = list(session.scalars(query.limit(200)))
    folded = " ".join(words)
    level_rank = {"province": 0, "district": 1, "commune": 2}
    hits.sort(
        key=lambda a: (
            not a.name_folded.endswith(folded),
            level_rank.get(a.level, 3),
            a.name_folded,
        )
    )
    hits = hits[:limit]
    parents = ancestors(session, hits)
    return [(a, display_name(a, parents)) for a in hits]


def is_within(inner: Area, outer: Area) -> bool:
    """True when `inner` is `outer` or lies inside it (same scheme only: codes differ across)."""
    return inner.scheme == outer.scheme and (
        inner.path == outer.path or inner.path.startswith(outer.path + "/")
    )
