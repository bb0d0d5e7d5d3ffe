"""Demo cases for tracing: two residents of Thành phố Cao Bằng who checked in at the busiest
venues become cases, registered by the demo health officer; their candidates are computed, the
strongest F1s of the first case confirmed (quarantine, follow-up, notices) and the owners of its
venues alerted. The mốc dịch tễ stays a draft: publishing it needs a second official.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from phongdich.audit.service import Actor
from phongdich.auth.service import principal_for
from phongdich.core.clock import local_day
from phongdich.messaging.sms import OutboxSender
from phongdich.models import Area, Case, Person, User, Venue, Visit
from phongdich.tracing.contacts import decide
from phongdich.tracing.service import candidates_of, compute_candidates, register_case
from phongdich.tracing.warnings import alert_venues

HEALTH_OFFICER = "yte.tpcaobang"
DISTRICT_PATH = "04/040"  # Thành phố Cao Bằng, 2021 scheme
CASES, CONFIRM = 2, 5


def fill_demo_tracing(
    session: Session, *, now: datetime, progress: Callable[[str, int, int | None], None] | None
) -> dict[str, int]:
    """Once: a couple of cases with explained candidates, some confirmed (safe to run twice)."""
    if session.scalar(select(func.count()).select_from(Case)):
        return {"cases_created": 0}
    officer = session.scalar(select(User).where(User.username == HEALTH_OFFICER))
    if officer is None:
        return {"cases_created": 0}
    actor = Actor(principal_for(session, officer))
    # Residents with the most visits at venues of the district, over the demo's few days.
    busiest = session.execute(
        select(Visit.person_id, func.min(Venue.area_id), func.count())
        .join(Venue, Venue.id == Visit.venue_id)
        .join(Area, Area.id == Venue.area_id)
        .where(Area.scheme == "2021", Area.path.startswith(DISTRICT_PATH + "/"))
        .where(Visit.checked_in_at >= now - timedelta(days=4))
        .group_by(Visit.person_id)
        .order_by(func.count().desc(), Visit.person_id)
        .limit(CASES)
    ).all()
    sms = OutboxSender()
    created = confirmed = 0
    for i, (person_id, commune_id, _visits) in enumerate(busiest):
        person = session.get(Person, person_id)
        commune = session.get(Area, commune_id)
        if person is None or commune is None:
            continue
        today = local_day(now)
        case = register_case(
            session,
            actor,
            person=person,
            confirmed_on=today,
            sample_on=today,
            onset_on=today - timedelta(days=1) if i == 0 else None,
            area=commune,
            now=now,
        )
        compute_candidates(session, actor, case, now=now)
        created += 1
        if i == 0:
            likely = [c.id for c in candidates_of(session, case) if c.category == "f1_likely"]
            if likely[:CONFIRM]:
                decide(session, actor, likely[:CONFIRM], "confirmed", now=now, sms=sms)
                confirmed += len(likely[:CONFIRM])
            alert_venues(session, actor, case, now=now, sms=sms)
        if progress:
            progress("cases", 1, CASES)
    return {"cases_created": created, "contacts_confirmed": confirmed}
