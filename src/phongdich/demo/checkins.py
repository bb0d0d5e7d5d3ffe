"""Demo check-in streams for Cao Bằng: a few hundred residents moving between the busiest venues
of their district over the last three days, the way check-ins really arrive (mornings at the
market, the office, lunch, the bus station), with the check-out rules applied and the venue
counters fed through `venues.activity.record_scans`.

The demo citizen gets a personal record and a dependant with a history of their own, so the
citizen's pages are not empty. Seeded, so two demo databases look the same.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from phongdich.audit.service import SYSTEM
from phongdich.checkins.rules import closing
from phongdich.checkins.service import CITIZEN_SCAN, HARDWARE_SCANNER, KHAI_HO, STAFF_SCAN
from phongdich.core.clock import VN_TZ, to_local
from phongdich.core.text import fold
from phongdich.models import Area, Person, User, Venue, VenueType, Visit
from phongdich.people.service import PersonDraft, add_dependant, ensure_self
from phongdich.venues.activity import Scan, record_scans
from phongdich.venues.queries import ACTIVE

SEED = 2022
RESIDENTS = 400
VENUES = 120
DAYS = 3
_SOURCES = (CITIZEN_SCAN, CITIZEN_SCAN, STAFF_SCAN, HARDWARE_SCANNER, KHAI_HO)
_FAMILY = ("Nông", "Hoàng", "Bế", "Lương", "Đàm", "Triệu", "Lục", "La", "Hà", "Nguyễn")
_MIDDLE = ("Văn", "Thị", "Đức", "Thu", "Minh", "Ngọc")
_GIVEN = ("An", "Bình", "Cúc", "Dũng", "Hoa", "Hùng", "Lan", "Mai", "Nam", "Quân", "Thảo", "Tú")

Progress = Callable[[str, int, int | None], None]


def _residents(session: Session, rng: random.Random, now: datetime) -> list[int]:
    rows: list[dict[str, Any]] = []
    for i in range(RESIDENTS):
        name = f"{rng.choice(_FAMILY)} {rng.choice(_MIDDLE)} {rng.choice(_GIVEN)}"
        rows.append(
            {"id_type": "cccd", "id_number": f"004{rng.choice('0123')}{rng.randint(50, 99):02d}"
             f"{i:06d}", "full_name": name, "name_folded": fold(name),
             "birth_year": 1950 + rng.randint(0, 55), "nationality": "VN", "created_at": now,
             "created_via": "staff",
             # Most people have a phone (notices go by SMS); some, like the elderly, do not.
             "phone": f"+8498{i:07d}" if i % 4 else None}
        )  # fmt: skip
    for r in rows:  # the century/sex digit and year say what the CCCD encodes
        digit, yy = int(r["id_number"][3]), int(r["id_number"][4:6])
        r["birth_year"] = 1900 + 100 * (digit // 2) + yy
        r["sex"] = "female" if digit % 2 else "male"
    return list(
        session.scalars(insert(Person).returning(Person.id, sort_by_parameter_order=True), rows)
    )


def _day_plan(
    rng: random.Random, day_start: datetime, venues: list[tuple[int, int]]
) -> list[tuple[datetime, int, int]]:
    """One resident's check-ins on one day: (time, venue id, default stay), in order."""
    stops = sorted(rng.sample(range(7 * 60, 20 * 60), rng.randint(1, 4)))
    return [(day_start + timedelta(minutes=m), *rng.choice(venues)) for m in stops]


def fill_demo_checkins(
    session: Session, *, now: datetime, progress: Progress | None = None
) -> dict[str, int]:
    """Residents and their visits over the last few days, once (a second run adds nothing)."""
    if session.scalar(select(func.count()).select_from(Visit)):
        return {"visits_created": 0}
    rng = random.Random(SEED)  # noqa: S311  made-up demo data, nothing secret
    busiest = session.execute(
        select(Venue.id, Venue.area_id, VenueType.default_stay_minutes)
        .join(VenueType, VenueType.id == Venue.type_id)
        .where(Venue.status == ACTIVE)
        .order_by(Venue.last_scan_at.desc(), Venue.id)
        .limit(VENUES)
    ).all()
    if not busiest:
        return {"visits_created": 0}
    districts: dict[int, list[tuple[int, int]]] = defaultdict(list)
    parents = dict(session.execute(select(Area.id, Area.parent_id)).all())
    for vid, area_id, stay in busiest:
        districts[parents.get(area_id) or area_id].append((vid, stay))
    groups = list(districts.values())
    people = _residents(session, rng, now)
    rows, scans = [], []
    today = to_local(now).replace(hour=0, minute=0, second=0, microsecond=0)
    for pid in people:
        venues = rng.choice(groups)
        plan = [
            stop
            for d in range(DAYS, -1, -1)
            for stop in _day_plan(rng, (today - timedelta(days=d)).astimezone(VN_TZ), venues)
            if stop[0] < now
        ]
        for i, (at, vid, stay) in enumerate(plan):
            following = plan[i + 1][0] if i + 1 < len(plan) else None
            end: datetime | None
            rule: str | None
            end, rule = closing(at, at, stay, following)
            if following is None and end > now:
                end, rule = None, None  # still there
            rows.append(
                {"person_id": pid, "venue_id": vid, "source": rng.choice(_SOURCES),
                 "checked_in_at": at, "last_seen_at": at, "checked_out_at": end,
                 "end_rule": rule, "default_stay_minutes": stay, "received_at": at}
            )  # fmt: skip
            scans.append(Scan(vid, str(pid), at))
    session.execute(insert(Visit), rows)
    record_scans(session, scans)
    if progress:
        progress("check-ins", len(rows), len(rows))
    _demo_citizen(session, now, busiest[0][0], busiest[0][2])
    return {"people_created": len(people), "visits_created": len(rows)}


def _demo_citizen(session: Session, now: datetime, venue_id: int, stay: int) -> None:
    user = session.scalar(select(User).where(User.phone == "+84912000001"))
    if user is None:
        return
    me = ensure_self(session, SYSTEM, user, now=now)
    if session.scalar(select(func.count()).select_from(Person).where(
            Person.guardian_user_id == user.id)):  # fmt: skip
        return
    from phongdich.audit.service import Actor
    from phongdich.auth.service import principal_for

    child = add_dependant(
        session, Actor(principal_for(session, user)), user,
        PersonDraft(full_name="Triệu Văn Minh", birth_year=2014, sex="male",
                    relationship_label="con"),
        now=now,
    )  # fmt: skip
    at = now - timedelta(days=1, hours=2)
    for p in (me, child):
        end, rule = closing(at, at, stay, None)
        session.add(
            Visit(person_id=p.id, venue_id=venue_id, source=CITIZEN_SCAN, checked_in_at=at,
                  last_seen_at=at, checked_out_at=end, end_rule=rule,
                  default_stay_minutes=stay, received_at=at)
        )  # fmt: skip
    session.flush()
    record_scans(session, [Scan(venue_id, str(p.id), at) for p in (me, child)])
