"""Load both administrative trees from the `vietnam-provinces` package into the areas table."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from phongdich.core.text import fold
from phongdich.models import Area

SCHEME_2021 = "2021"
SCHEME_2025 = "2025"


@dataclass(frozen=True)
class AreaRow:
    scheme: str
    level: str
    code: str
    name: str
    division_type: str
    parent: tuple[str, str] | None  # (level, code) of the parent in the same scheme


def _rows_2021(province_codes: set[int] | None) -> Iterator[AreaRow]:
    from vietnam_provinces.legacy import base as legacy

    for p in legacy.Province.iter_all():
        if province_codes is not None and int(p.code) not in province_codes:
            continue
        pcode = f"{int(p.code):02d}"
        yield AreaRow(SCHEME_2021, "province", pcode, p.name, str(p.division_type), None)
        for d in legacy.District.iter_by_province(p.code):
            dcode = f"{int(d.code):03d}"
            yield AreaRow(
                SCHEME_2021, "district", dcode, d.name, str(d.division_type), ("province", pcode)
            )
            for w in legacy.Ward.iter_by_district(d.code):
                yield AreaRow(
                    SCHEME_2021,
                    "commune",
                    f"{int(w.code):05d}",
                    w.name,
                    str(w.division_type),
                    ("district", dcode),
                )


def _rows_2025(province_codes: set[int] | None) -> Iterator[AreaRow]:
    from vietnam_provinces import Province, Ward

    for p in Province.iter_all():
        if province_codes is not None and int(p.code) not in province_codes:
            continue
        pcode = f"{int(p.code):02d}"
        yield AreaRow(SCHEME_2025, "province", pcode, p.name, str(p.division_type), None)
        for w in Ward.iter_by_province(p.code):
            yield AreaRow(
                SCHEME_2025,
                "commune",
                f"{int(w.code):05d}",
                w.name,
                str(w.division_type),
                ("province", pcode),
            )


def area_rows(schemes: tuple[str, ...], province_codes: set[int] | None) -> list[AreaRow]:
    """Every unit of the chosen schemes and provinces, parents before children."""
    rows: list[AreaRow] = []
    if SCHEME_2021 in schemes:
        rows.extend(_rows_2021(province_codes))
    if SCHEME_2025 in schemes:
        rows.extend(_rows_2025(province_codes))
    return rows


def load_areas(
    session: Session,
    rows: list[AreaRow],
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Insert or update areas; running it again changes nothing. Returns counts by outcome."""
    existing = {(a.scheme, a.level, a.code): a for a in session.scalars(select(Area)).all()}
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for i, row in enumerate(rows, 1):
        parent = existing[(row.scheme, *row.parent)] if row.parent else None
        path = f"{parent.path}/{row.code}" if parent else row.code
        key = (row.scheme, row.level, row.code)
        area = existing.get(key)
        values = {
            "name": row.name,
            "division_type": row.division_type,
            "name_folded": fold(row.name),
            "parent_id": parent.id if parent else None,
            "path": path,
        }
        if area is None:
            area = Area(scheme=row.scheme, level=row.level, code=row.code, **values)
            session.add(area)
            existing[key] = area
            counts["created"] += 1
        elif any(getattr(area, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(area, k, v)
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
        if parent is None or row.level != "commune":
            # Children need the parent's primary key for parent_id.
            session.flush()
        if progress and i % 200 == 0:
            progress(200)
    session.flush()
    if progress:
        progress(len(rows) % 200)
    return counts
