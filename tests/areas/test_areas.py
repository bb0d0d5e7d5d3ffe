"""Both administrative trees, loaded from vietnam-provinces into a real database."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from phongdich.areas.loader import SCHEME_2021, SCHEME_2025, area_rows, load_areas
from phongdich.areas.queries import get_area, is_within, search_areas
from phongdich.core.errors import NotFound
from phongdich.models import Area


def count(db: Session, scheme: str, level: str) -> int:
    return (
        db.scalar(
            select(func.count()).select_from(Area).where(Area.scheme == scheme, Area.level == level)
        )
        or 0
    )


def test_cao_bang_has_the_units_domain_md_names(db: Session) -> None:
    assert count(db, SCHEME_2021, "district") == 10
    assert count(db, SCHEME_2021, "commune") == 161
    assert count(db, SCHEME_2025, "commune") == 56
    assert count(db, SCHEME_2025, "district") == 0
    city = get_area(db, SCHEME_2021, "district", "040")
    assert city.name == "Thành phố Cao Bằng" and city.path == "04/040"


def test_loading_again_changes_nothing(db: Session) -> None:
    counts = load_areas(db, area_rows((SCHEME_2021, SCHEME_2025), {4}))
    assert counts == {"created": 0, "updated": 0, "unchanged": 229}


def test_codes_are_scheme_aware(db: Session) -> None:
    # The same commune code can name different places in the two schemes; each keeps its own.
    old = get_area(db, SCHEME_2021, "commune", "01267")
    assert old.name == "Phường Sông Hiến"
    with pytest.raises(NotFound) as info:
        get_area(db, SCHEME_2025, "commune", "99999")
    assert info.value.code == "area.unknown" and "99999" in info.value.message
    province_2021 = get_area(db, SCHEME_2021, "province", "04")
    assert is_within(old, province_2021)
    assert not is_within(old, get_area(db, SCHEME_2025, "province", "04"))


@pytest.mark.parametrize("query", ["hoa an", "HOÀ AN", "Hòa  An", "hoà an"])
def test_search_ignores_accents_case_and_spacing(db: Session, query: str) -> None:
    names = [full for _a, full in search_areas(db, query)]
    assert "Huyện Hoà An, Tỉnh Cao Bằng" in names
    assert "Xã Hòa An, Tỉnh Cao Bằng" in names  # the 2025 commune of the same name


def test_communes_with_one_name_are_told_apart_by_their_parents(db: Session) -> None:
    hits = search_areas(db, "xa", scheme=SCHEME_2021, level="commune", limit=200)
    by_name: dict[str, list[str]] = {}
    for area, full in hits:
        by_name.setdefault(area.name, []).append(full)
    shared = {name: fulls for name, fulls in by_name.items() if len(fulls) > 1}
    for fulls in shared.values():
        assert len(set(fulls)) == len(fulls)  # the full names differ
    assert all(full.count(",") == 2 for _a, full in hits)


def test_whole_country_rows_are_available() -> None:
    rows = area_rows((SCHEME_2021, SCHEME_2025), None)
    levels = {(r.scheme, r.level) for r in rows}
    assert len([r for r in rows if r.scheme == SCHEME_2021 and r.level == "province"]) == 63
    assert len([r for r in rows if r.scheme == SCHEME_2025 and r.level == "province"]) == 34
    assert len([r for r in rows if r.scheme == SCHEME_2021 and r.level == "district"]) == 696
    assert (SCHEME_2025, "district") not in levels
