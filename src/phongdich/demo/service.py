"""Fill the database with Cao Bằng's areas and one account for every role.

Later domains (venues, check-ins, cases) extend `fill_demo` with their own generators.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from phongdich.areas.loader import SCHEME_2021, SCHEME_2025, area_rows, load_areas
from phongdich.areas.queries import get_area
from phongdich.audit.service import SYSTEM
from phongdich.auth.roles import Role
from phongdich.auth.service import create_user
from phongdich.models import User

CAO_BANG = 4
DEMO_PASSWORD = "phongdich-demo"  # noqa: S105  printed by `serve --demo`; never use outside a demo


@dataclass(frozen=True)
class DemoAccount:
    username: str | None
    phone: str | None
    full_name: str
    role: Role
    area: tuple[str, str] | None  # (level, code) in the 2021 scheme

    @property
    def login(self) -> str:
        return self.username or self.phone or ""


DEMO_ACCOUNTS = (
    DemoAccount("quantri", None, "Nguyễn Văn Quản", Role.ADMIN, ("province", "04")),
    DemoAccount("tinh.caobang", None, "Hoàng Thị Tỉnh", Role.PROVINCE_OFFICIAL, ("province", "04")),
    DemoAccount(
        "huyen.tpcaobang", None, "Nông Văn Thành", Role.DISTRICT_OFFICIAL, ("district", "040")
    ),
    DemoAccount("huyen.hoaan", None, "Lương Thị An", Role.DISTRICT_OFFICIAL, ("district", "051")),
    DemoAccount("xa.songhien", None, "Bế Văn Hiến", Role.COMMUNE_OFFICIAL, ("commune", "01267")),
    DemoAccount("yte.tpcaobang", None, "Đàm Thị Y", Role.HEALTH_OFFICER, ("district", "040")),
    DemoAccount("chot.quanghoa", None, "La Văn Chốt", Role.CHECKPOINT_OFFICER, ("district", "049")),
    DemoAccount(None, "0912000001", "Triệu Thị Dân", Role.CITIZEN, None),
)


# The owner and a staff member of one active venue in Phường Sông Hiến, so the venue pages,
# the scanner page and the owner's alert inbox can be tried with phone sign-in.
DEMO_VENUE_TEAM = (
    DemoAccount(None, "0912000002", "Vi Thị Chủ", Role.VENUE_OWNER, None),
    DemoAccount(None, "0912000003", "Hà Văn Soát", Role.VENUE_STAFF, None),
)


def _demo_venue_team(session: Session, *, now: datetime) -> int:
    """Give one active venue of Sông Hiến a demo owner and staff member; 0 if already done."""
    from phongdich.auth.service import grant_role
    from phongdich.models import Venue

    if session.scalar(select(User).where(User.phone == _e164(DEMO_VENUE_TEAM[0].phone))):
        return 0
    commune = get_area(session, SCHEME_2021, "commune", "01267")
    # The commune's most recently scanned venue: the check-in streams use the busiest venues,
    # so cases pass through it and the owner's alert inbox has something to show.
    venue = session.scalars(
        select(Venue)
        .where(Venue.area_id == commune.id, Venue.status == "active")
        .order_by(Venue.last_scan_at.desc().nulls_last(), Venue.id)
    ).first()
    if venue is None:
        return 0
    for acc in DEMO_VENUE_TEAM:
        user = create_user(
            session,
            SYSTEM,
            now=now,
            full_name=acc.full_name,
            phone=acc.phone,
            role=Role.CITIZEN,
            check=False,
        )
        grant_role(
            session,
            SYSTEM,
            user,
            acc.role,
            now=now,
            object_type="venue",
            object_id=venue.id,
            check=False,
        )
        if acc.role is Role.VENUE_OWNER:
            venue.owner_user_id = user.id
    session.flush()
    return len(DEMO_VENUE_TEAM)


def _e164(national: str | None) -> str:
    return "+84" + (national or "")[1:]


def fill_demo(
    session: Session,
    *,
    now: datetime,
    progress: Callable[[str, int, int | None], None] | None = None,
) -> dict[str, int]:
    """Load Cao Bằng (both schemes) and the demo accounts; safe to run twice."""
    rows = area_rows((SCHEME_2021, SCHEME_2025), {CAO_BANG})
    counts = load_areas(
        session, rows, progress=(lambda n: progress("areas", n, len(rows))) if progress else None
    )
    created = 0
    for acc in DEMO_ACCOUNTS:
        login = User.username == acc.username if acc.username else User.phone == _e164(acc.phone)
        exists = session.scalar(select(User).where(login))
        if exists:
            continue
        area = get_area(session, SCHEME_2021, *acc.area) if acc.area else None
        create_user(
            session,
            SYSTEM,
            now=now,
            full_name=acc.full_name,
            username=acc.username,
            phone=acc.phone,
            password=DEMO_PASSWORD if acc.username else None,
            role=acc.role,
            area=area,
            check=False,
        )
        created += 1
        if progress:
            progress("accounts", 1, len(DEMO_ACCOUNTS))
    from phongdich.demo.venues import fill_demo_venues

    province = get_area(session, SCHEME_2021, "province", f"{CAO_BANG:02d}")
    venues = fill_demo_venues(session, province, now=now, progress=progress)
    created += _demo_venue_team(session, now=now)
    from phongdich.demo.checkins import fill_demo_checkins

    checkins = fill_demo_checkins(session, now=now, progress=progress)
    from phongdich.demo.tracing import fill_demo_tracing

    tracing = fill_demo_tracing(session, now=now, progress=progress)
    return {
        "areas_created": counts["created"],
        "accounts_created": created,
        **venues,
        **checkins,
        **tracing,
    }
