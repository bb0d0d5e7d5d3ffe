"""The venue report: counts by district, commune and type, scoped to the reader's area, the same
on the page, in the API, in Excel and in the CLI; the dormant list, exported escaped."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from phongdich.areas.queries import get_area
from phongdich.auth.roles import Role
from phongdich.auth.service import CLI_PRINCIPAL, principal_for
from phongdich.core.errors import Forbidden
from phongdich.reports.venues import dormant_venues, venue_activity_report
from phongdich.venues.activity import POSTER_CHECK, record_scan
from tests.conftest import T0, FreshDatabase, migrated_engine
from tests.factories import HOA_AN, HOANG_TUNG, PROVINCE, SONG_HIEN, TP_CAO_BANG, official
from tests.factories import sign_in as sign_in_user
from tests.venues.orm_factories import make_venue

FORMULA_NAME = "=cmd|' /C calc'!A0"
DAY_FROM, DAY_TO = (T0 - timedelta(days=6)).date(), T0.date()


@dataclass
class Plan:
    commune: tuple[str, str]
    district: str
    type_code: str
    scans: list[tuple[str, datetime]]  # (person, when)
    status: str = "approved"
    created_at: datetime = T0 - timedelta(days=60)
    name: str | None = None

    @property
    def counted(self) -> bool:
        return self.status != "pending" and self.created_at <= T0

    @property
    def scans_in_range(self) -> int:
        return sum(1 for _p, at in self.scans if DAY_FROM <= at.date() <= DAY_TO)


PLANS = [
    Plan(SONG_HIEN, "040", "market", [("an", T0), ("binh", T0), ("an", T0 - timedelta(hours=1))]),
    Plan(SONG_HIEN, "040", "school", [("an", T0 - timedelta(days=10))]),
    Plan(HOANG_TUNG, "051", "market", [("chi", T0 - timedelta(days=2))]),
    Plan(HOANG_TUNG, "051", "restaurant", [], name=FORMULA_NAME),
    Plan(SONG_HIEN, "040", "market", [("an", T0)], status="pending"),
    Plan(SONG_HIEN, "040", "market", [], created_at=T0 + timedelta(days=3)),
]


def expected(district: str | None = None) -> tuple[int, int, int]:
    plans = [p for p in PLANS if p.counted and (district is None or p.district == district)]
    active = sum(1 for p in plans if p.scans_in_range)
    return len(plans), active, sum(p.scans_in_range for p in plans)


@pytest.fixture
def venues(db: Session) -> list[int]:
    owner = official(db, Role.CITIZEN, None, name="Nông Thị Chủ")
    owner.phone = "+84912000111"
    ids = []
    for plan in PLANS:
        v = make_venue(
            db,
            commune=plan.commune,
            type_code=plan.type_code,
            status=plan.status,
            created_at=plan.created_at,
            name=plan.name,
            owner_user_id=owner.id if plan.name == FORMULA_NAME else None,
        )
        for person, at in plan.scans:
            record_scan(db, v, person_key=person, at=at)
        ids.append(v.id)
    # The owner of the second venue checked the poster in the range: still not active.
    record_scan(db, db.get_one(type(v), ids[1]), person_key="user:9", at=T0, kind=POSTER_CHECK)
    return ids


def test_counts_by_district_commune_and_type(db: Session, venues: list[int]) -> None:
    report = venue_activity_report(db, CLI_PRINCIPAL, date_from=DAY_FROM, date_to=DAY_TO, now=T0)
    t = report.total
    assert (t.registered, t.active, t.scans) == expected()
    assert t.dormant == t.registered - t.active
    for rows in (report.by_district, report.by_commune, report.by_type):
        assert sum(r.registered for r in rows) == t.registered
        assert sum(r.active for r in rows) == t.active
        assert sum(r.scans for r in rows) == t.scans
    by_key = {r.key: r for r in report.by_district}
    for code in ("040", "051"):
        row = by_key[code]
        assert (row.registered, row.active, row.scans) == expected(code)
    assert {r.key for r in report.by_type} == {"market", "school", "restaurant"}
    assert all(r.parent_name for r in report.by_commune)  # a commune is never shown alone


def test_officials_see_their_own_area_only(db: Session, venues: list[int]) -> None:
    tp = principal_for(db, official(db, Role.DISTRICT_OFFICIAL, TP_CAO_BANG))
    report = venue_activity_report(db, tp, date_from=DAY_FROM, date_to=DAY_TO, now=T0)
    assert [r.key for r in report.by_district] == ["040"]
    assert (report.total.registered, report.total.active, report.total.scans) == expected("040")
    assert "Thành phố Cao Bằng" in report.scope

    hoa_an = principal_for(db, official(db, Role.DISTRICT_OFFICIAL, HOA_AN))
    tp_area = get_area(db, "2021", *TP_CAO_BANG)
    with pytest.raises(Forbidden):
        venue_activity_report(
            db, hoa_an, date_from=DAY_FROM, date_to=DAY_TO, now=T0, within=tp_area
        )
    citizen = principal_for(db, official(db, Role.CITIZEN, None))
    with pytest.raises(Forbidden):
        venue_activity_report(db, citizen, date_from=DAY_FROM, date_to=DAY_TO, now=T0)


def test_dormant_list_has_owner_contacts(db: Session, venues: list[int]) -> None:
    data = dormant_venues(db, CLI_PRINCIPAL, date_from=DAY_FROM, date_to=DAY_TO)
    registered, active, _ = expected()
    assert data.total == registered - active == len(data.venues)
    formula = next(v for v in data.venues if v.name == FORMULA_NAME)
    assert formula.owner_name == "Nông Thị Chủ" and formula.owner_phone == "+84912000111"
    assert formula.district == "Huyện Hoà An"
    assert venues[0] not in {v.id for v in data.venues}


def _sheet_rows(content: bytes, sheet: str) -> list[tuple[object, ...]]:
    wb = load_workbook(io.BytesIO(content))
    return list(wb[sheet].iter_rows(values_only=True))


def test_page_api_and_excel_agree(db: Session, venues: list[int], client: TestClient) -> None:
    sign_in_user(client, official(db, Role.PROVINCE_OFFICIAL, PROVINCE))
    query = {"from": DAY_FROM.strftime("%d/%m/%Y"), "to": DAY_TO.strftime("%d/%m/%Y")}
    api = client.get(
        "/api/v1/reports/venues",
        params={"date_from": DAY_FROM.isoformat(), "date_to": DAY_TO.isoformat()},
    ).json()
    total = api["total"]
    assert (total["registered"], total["active"], total["scans"]) == expected()

    page = client.get("/reports/venues", params=query)
    assert page.status_code == 200
    assert f'id="total-registered">{total["registered"]}<' in page.text
    assert f'id="total-active">{total["active"]}<' in page.text
    assert f'id="total-dormant">{total["dormant"]}<' in page.text
    assert "<svg" in page.text and "<script" not in page.text

    xlsx = client.get("/reports/venues.xlsx", params=query)
    assert xlsx.status_code == 200
    header, *rows = _sheet_rows(xlsx.content, "Theo huyện")
    assert header[2:5] == ("Đã đăng ký", "Có lượt quét", "Không có lượt quét")
    *districts, last = rows
    assert last[2:5] == (total["registered"], total["active"], total["dormant"])
    assert last[6] == total["scans"]
    assert sum(r[2] for r in districts) == total["registered"]  # type: ignore[misc]
    communes = _sheet_rows(xlsx.content, "Theo xã")[1:]
    assert sum(r[3] for r in communes) == total["registered"]  # type: ignore[misc]


def test_dormant_export_escapes_formula_like_names(
    db: Session, venues: list[int], client: TestClient
) -> None:
    sign_in_user(client, official(db, Role.DISTRICT_OFFICIAL, HOA_AN))
    query = {"from": DAY_FROM.strftime("%d/%m/%Y"), "to": DAY_TO.strftime("%d/%m/%Y")}
    page = client.get("/reports/venues/dormant", params=query)
    assert page.status_code == 200 and "0912 000 111" in page.text
    api = client.get("/api/v1/reports/venues/dormant", params={"date_from": DAY_FROM.isoformat()})
    rows = _sheet_rows(
        client.get("/reports/venues/dormant.xlsx", params=query).content, "Không có lượt quét"
    )[1:]
    assert len(rows) == api.json()["total"] == 1  # Hoà An: only the restaurant has no scans
    assert rows[0][0] == "'" + FORMULA_NAME
    wb = load_workbook(io.BytesIO(client.get("/reports/venues/dormant.xlsx", params=query).content))
    assert all(c.data_type != "f" for row in wb.active.iter_rows() for c in row)


def test_bad_dates_are_explained(db: Session, client: TestClient) -> None:
    sign_in_user(client, official(db, Role.PROVINCE_OFFICIAL, PROVINCE))
    r = client.get("/reports/venues", params={"from": "31/02/2021"})
    assert r.status_code == 400 and "Ngày không hợp lệ: «31/02/2021»" in r.text
    r = client.get("/reports/venues", params={"from": "31/02/2021", "lang": "en"})
    assert r.status_code == 400 and "Invalid date: «31/02/2021»" in r.text
    r = client.get("/reports/venues", params={"from": "15/11/2021", "to": "01/11/2021"})
    assert r.status_code == 400


def test_cli_prints_the_report_and_writes_excel(
    fresh_database: FreshDatabase, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    engine = migrated_engine(fresh_database)
    with Session(engine) as db:
        for plan in PLANS[:3]:
            v = make_venue(db, commune=plan.commune, type_code=plan.type_code)
            for person, at in plan.scans:
                record_scan(db, v, person_key=person, at=at)
        db.commit()
    engine.dispose()
    monkeypatch.setenv("PHONGDICH_DATABASE_URL", fresh_database.url)
    from phongdich.cli import app

    out = tmp_path / "bao-cao.xlsx"
    args = [
        "report",
        "venues",
        "--from",
        DAY_FROM.strftime("%d/%m/%Y"),
        "--to",
        DAY_TO.strftime("%d/%m/%Y"),
        "--xlsx",
        str(out),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Tổng cộng" in result.output
    *_, last = _sheet_rows(out.read_bytes(), "Theo huyện")
    plans = PLANS[:3]
    assert last[2] == len(plans)
    assert last[3] == sum(1 for p in plans if p.scans_in_range)
