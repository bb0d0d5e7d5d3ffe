"""Demo venues for Cao Bằng: about 5,677 QR points across its 10 district-level units (2021
scheme), of which 419 with a scan in the last 7 days, as in the Department's report of 2021, and
45 days of scan history recorded through the real counters (`venues.activity.record_scans`).

Everything is drawn from a seeded random generator, so two demo databases look the same.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from phongdich.core.shortcode import new_short_code
from phongdich.core.text import fold
from phongdich.models import Area, Venue, VenueLocation, VenueType
from phongdich.venues.activity import Scan, record_scans
from phongdich.venues.queries import APPROVED
from phongdich.venues.tasks import update_activity_statuses

TOTAL_VENUES = 5677
ACTIVE_LAST_7_DAYS = 419
RECENTLY_DORMANT = 900  # last scan 8–29 days ago
LONG_SILENT = 1500  # last scan 31–45 days ago; the rest never had one
SEED = 2021
_BATCH = 2000

Progress = Callable[[str, int, int | None], None]

_WORDS = (
    "Bình Minh", "Hoàng Gia", "Phúc Lộc", "An Khang", "Thành Đạt", "Non Nước", "Bản Giốc",
    "Pác Bó", "Hồng Hà", "Ngọc Lan", "Thu Hà", "Hương Sen", "Minh Anh", "Đức Thịnh", "Tuấn Phát",
    "Sông Bằng", "Kim Đồng", "Ba Bể", "Thác Đầu Đẳng", "Phia Oắc", "Mai Anh", "Hải Yến",
)  # fmt: skip
_PEOPLE = (
    "cô Lan", "anh Tuấn", "bà Sáu", "chị Hoa", "anh Bế Hùng", "chú Nông Thắng", "chị Lục Mai",
    "anh Hoàng Dũng", "bà Đàm Thị Hạnh", "anh Triệu Quân", "chị La Thu", "ông Lương Văn Tịnh",
)  # fmt: skip
# Name patterns per built-in type code: {c} commune, {w} a name word, {p} a person, {n} a number.
_PATTERNS: dict[str, tuple[str, ...]] = {
    "office": ("UBND {c}", "Công an {c}", "Bưu điện văn hoá {c}", "Ngân hàng Agribank {c}",
               "Hội Nông dân {c}", "Nhà văn hoá {c}"),
    "factory": ("Công ty TNHH {w}", "HTX nông nghiệp {w}", "Xưởng mộc {p}",
                "Cơ sở sản xuất miến dong {c}", "Xưởng may {w}"),
    "hospital": ("Trạm Y tế {c}", "Phòng khám đa khoa {w}", "Nhà thuốc {w}", "Nha khoa {w}"),
    "school": ("Trường Mầm non {c}", "Trường Tiểu học {c}", "Trường THCS {c}",
               "Trường PTDTBT THCS {c}", "Điểm trường xóm {n}"),
    "market": ("Chợ {c}", "Tạp hoá {p}", "Siêu thị mini {w}", "Cửa hàng vật tư {w}",
               "Cửa hàng điện thoại {w}"),
    "lodging": ("Nhà nghỉ {w}", "Khách sạn {w}", "Homestay {w}"),
    "restaurant": ("Quán phở {p}", "Quán cà phê {w}", "Nhà hàng {w}", "Quán bún {p}",
                   "Quán ăn {p}", "Quán nướng {w}"),
    "station": ("Bến xe {c}", "Điểm đón trả khách {c}"),
    "vehicle": ("Xe khách {w} 11B-0{n}", "Xe buýt tuyến {n}"),
    "public_place": ("Sân bóng xóm {n}", "Chùa {w}", "Công viên {w}", "Nhà văn hoá xóm {n}"),
    "checkpoint": ("Chốt kiểm dịch {c}", "Chốt kiểm soát cửa ngõ {c}"),
    "vaccination_site": ("Điểm tiêm chủng {c}",),
}  # fmt: skip
_TYPE_WEIGHTS = {
    "restaurant": 20, "market": 20, "office": 14, "school": 10, "factory": 8, "public_place": 8,
    "hospital": 6, "lodging": 5, "station": 2, "vehicle": 2, "checkpoint": 3, "vaccination_site": 2,
}  # fmt: skip
_STREETS = ("Kim Đồng", "Hoàng Đình Giong", "Vườn Cam", "Xuân Trường", "Bế Văn Đàn", "Pác Bó")


def _venue_name(rng: random.Random, type_code: str, commune: Area) -> str:
    pattern = rng.choice(_PATTERNS.get(type_code, ("Địa điểm {w}",)))
    return pattern.format(
        c=commune.name, w=rng.choice(_WORDS), p=rng.choice(_PEOPLE), n=rng.randint(1, 40)
    )


def _address(rng: random.Random, commune: Area) -> str:
    if commune.division_type.lower().startswith(("phường", "thị trấn")):
        return f"Số {rng.randint(1, 250)} đường {rng.choice(_STREETS)}"
    return f"Xóm {rng.choice(_WORDS)}"


def _fresh_codes(session: Session, n: int) -> list[str]:
    taken = set(session.scalars(select(Venue.short_code))) | set(
        session.scalars(select(VenueLocation.short_code))
    )
    codes: set[str] = set()
    while len(codes) < n:
        code = new_short_code()
        if code not in taken:
            codes.add(code)
    return sorted(codes)


def _insert_venues(
    session: Session, province: Area, now: datetime, rng: random.Random, progress: Progress | None
) -> list[int]:
    communes = list(
        session.scalars(
            select(Area)
            .where(Area.scheme == province.scheme, Area.level == "commune")
            .where(Area.path.startswith(province.path + "/"))
            .order_by(Area.path)
        )
    )
    types = {t.code: t for t in session.scalars(select(VenueType))}
    codes = [c for c in _TYPE_WEIGHTS if c in types] or list(types)
    weights = [_TYPE_WEIGHTS.get(c, 1) for c in codes]
    # Towns and city wards hold more places than mountain communes.
    commune_weights = [
        6 if c.division_type.lower().startswith(("phường", "thị trấn")) else 1 for c in communes
    ]
    short_codes = _fresh_codes(session, TOTAL_VENUES)
    ids: list[int] = []
    for start in range(0, TOTAL_VENUES, _BATCH):
        rows = []
        for i in range(start, min(start + _BATCH, TOTAL_VENUES)):
            commune = rng.choices(communes, commune_weights)[0]
            type_code = rng.choices(codes, weights)[0]
            name = _venue_name(rng, type_code, commune)
            approved = now - timedelta(days=rng.randint(50, 420), minutes=rng.randint(0, 600))
            rows.append(
                {
                    "name": name,
                    "name_folded": fold(name),
                    "type_id": types[type_code].id,
                    "street_address": _address(rng, commune),
                    "area_id": commune.id,
                    "contact_phone": f"+849{rng.randint(10_000_000, 99_999_999)}",
                    "status": APPROVED,
                    "registered_via": rng.choice(("official", "import", "import", "self")),
                    "short_code": short_codes[i],
                    "created_at": approved - timedelta(days=rng.randint(0, 3)),
                    "approved_at": approved,
                }
            )
        ids += session.scalars(
            insert(Venue).returning(Venue.id, sort_by_parameter_order=True), rows
        ).all()
        if progress:
            progress("venues", len(rows), TOTAL_VENUES)
    return ids


def _scan_plan(venue_ids: list[int], now: datetime, rng: random.Random) -> tuple[list[Scan], int]:
    chosen = rng.sample(venue_ids, ACTIVE_LAST_7_DAYS + RECENTLY_DORMANT + LONG_SILENT)
    active = chosen[:ACTIVE_LAST_7_DAYS]
    dormant = chosen[ACTIVE_LAST_7_DAYS : ACTIVE_LAST_7_DAYS + RECENTLY_DORMANT]
    silent = chosen[ACTIVE_LAST_7_DAYS + RECENTLY_DORMANT :]
    scans: list[Scan] = []

    def add(venue_id: int, days_ago: int, count: int) -> None:
        people = rng.randint(20, 400)  # regulars of this place
        for _ in range(count):
            # Within the opening hours before `now`: at most 14 hours back from the day's mark.
            at = now - timedelta(days=days_ago, minutes=rng.randint(0, 14 * 60))
            scans.append(Scan(venue_id, f"demo-{venue_id % 97}-{rng.randrange(people)}", at))

    for vid in active:
        add(vid, rng.randint(0, 5), rng.randint(1, 8))  # at least one scan this week
        busy = rng.random()
        for day in range(30):
            if rng.random() < 0.6:
                add(vid, day, max(1, int(busy * rng.randint(1, 12))))
    for vid in dormant:
        for day in rng.sample(range(8, 30), rng.randint(1, 5)):
            add(vid, day, rng.randint(1, 6))
    for vid in silent:
        for day in rng.sample(range(31, 46), rng.randint(1, 3)):
            add(vid, day, rng.randint(1, 4))
    return scans, len(active)


def fill_demo_venues(
    session: Session, province: Area, *, now: datetime, progress: Progress | None = None
) -> dict[str, int]:
    """Venues and scan history for the province, once (a second run adds nothing)."""
    existing = session.scalar(
        select(func.count())
        .select_from(Venue)
        .join(Area, Area.id == Venue.area_id)
        .where(Area.scheme == province.scheme, Area.path.startswith(province.path + "/"))
    )
    if existing:
        return {"venues_created": 0, "scans_recorded": 0}
    rng = random.Random(SEED)  # noqa: S311  made-up demo data, nothing secret
    venue_ids = _insert_venues(session, province, now, rng, progress)
    scans, _active = _scan_plan(venue_ids, now, rng)
    scans.sort(key=lambda s: (s.venue_id, s.at))  # by venue: small look-ups per batch
    for start in range(0, len(scans), 20_000):
        batch = scans[start : start + 20_000]
        record_scans(session, batch)
        if progress:
            progress("scans", len(batch), len(scans))
    update_activity_statuses(session, now)
    return {"venues_created": len(venue_ids), "scans_recorded": len(scans)}
