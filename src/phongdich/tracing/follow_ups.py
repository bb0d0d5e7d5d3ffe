"""Daily follow-up of confirmed contacts by the commune health station: the day's list for a
station (with the days already missed), and recording a call or visit.

Recording the same day again updates that day's record: the latest recording wins, each change
is audited with what it replaced, and an identical repeat (a double tap, a retried request)
changes nothing and is not audited again. A day whose contact was not reached is "missed" at
once; a day nobody recorded becomes "missed" when it ends (`tasks.mark_missed_follow_ups`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from phongdich.audit.service import Actor, record
from phongdich.auth.policy import Principal, Target, areas_for, require, require_somewhere
from phongdich.auth.service import area_ref
from phongdich.core.clock import local_day
from phongdich.core.errors import AppError, Conflict, NotFound
from phongdich.models import Area, Case, Contact, FollowUp, Person
from phongdich.tracing.queries import in_areas
from phongdich.venues.queries import area_names

DUE, DONE, MISSED = "due", "done", "missed"
# Body temperatures a thermometer at home can honestly show; anything else is a typing slip.
TEMPERATURE_RANGE = (34.0, 43.0)
MAX_LIST = 500


@dataclass
class FollowUpView:
    """One person on the station's list for a day, with the earlier days nobody reached them."""

    follow_up: FollowUp
    contact: Contact
    person: Person
    station: Area
    missed_days: list[date] = field(default_factory=list)


def _station_of(session: Session, follow_up: FollowUp, contact: Contact) -> Area:
    """The commune following the contact up; rows from before every contact had a station fall
    back to the commune managing the case."""
    area_id = follow_up.station_area_id
    if area_id is None:
        case_obj = session.get(Case, contact.case_id)
        assert case_obj is not None
        area_id = case_obj.area_id
    area = session.get(Area, area_id)
    assert area is not None
    return area


def follow_up_target(station: Area, follow_up: FollowUp) -> Target:
    return Target(area=area_ref(station), object_type="follow_up", object_id=follow_up.id)


def due_follow_ups(session: Session, principal: Principal, *, day: date) -> list[FollowUpView]:
    """The day's follow-ups at the stations the principal works for (health officers of the
    commune, or of any area above it), people with missed days first."""
    require_somewhere(principal, "case.manage")
    refs = areas_for(principal, "case.manage")
    query = (
        select(FollowUp, Contact, Person, Area)
        .join(Contact, Contact.id == FollowUp.contact_id)
        .join(Person, Person.id == Contact.person_id)
        .join(Area, Area.id == FollowUp.station_area_id)
        # Someone who became a case is treated as one, no longer followed up as a contact.
        .where(FollowUp.day == day, Contact.status != "became_case")
    )
    if refs is not None:
        query = query.where(in_areas(refs))
    rows = session.execute(query.order_by(Person.name_folded, FollowUp.id).limit(MAX_LIST)).all()
    views = [FollowUpView(f, c, p, a) for f, c, p, a in rows]
    missed: dict[int, list[date]] = defaultdict(list)
    if views:
        earlier = session.execute(
            select(FollowUp.contact_id, FollowUp.day)
            .where(
                FollowUp.contact_id.in_([v.contact.id for v in views]),
                FollowUp.day < day,
                or_(FollowUp.status == MISSED, FollowUp.status == DUE),
            )
            .order_by(FollowUp.day)
        ).all()
        for contact_id, missed_day in earlier:
            missed[contact_id].append(missed_day)
    for v in views:
        v.missed_days = missed.get(v.contact.id, [])
    views.sort(key=lambda v: (v.follow_up.status != DUE, not v.missed_days))
    return views


def station_names(session: Session, views: list[FollowUpView]) -> dict[int, str]:
    """Full names of the stations in a list, by area id."""
    return area_names(session, list({v.station.id: v.station for v in views}.values()))


def temperature_invalid(value: object) -> AppError:
    return AppError(
        "follow_up.temperature_invalid", "Nhiệt độ phải là số từ 34 đến 43 °C.", {"value": value}
    )


def _check_answers(reached: bool, symptoms: bool | None, temperature: float | None) -> None:
    if not reached and (symptoms is not None or temperature is not None):
        raise AppError(
            "follow_up.answers_without_contact",
            "Không liên lạc được thì không ghi triệu chứng hay nhiệt độ.",
        )
    if reached and symptoms is None:
        raise AppError(
            "follow_up.symptoms_required", "Vui lòng ghi rõ người này có triệu chứng hay không."
        )
    low, high = TEMPERATURE_RANGE
    if temperature is not None and not low <= temperature <= high:
        raise temperature_invalid(temperature)


def record_follow_up(
    session: Session,
    actor: Actor,
    follow_up_id: int,
    *,
    reached: bool,
    now: datetime,
    symptoms: bool | None = None,
    temperature: float | None = None,
    note: str = "",
) -> FollowUp:
    """The health station records a day's follow-up: reached or not, symptoms, temperature."""
    row = session.get(FollowUp, follow_up_id)
    if row is None:
        raise NotFound("follow_up.not_found", "Không tìm thấy lịch theo dõi.")
    contact = session.get(Contact, row.contact_id)
    assert contact is not None
    station = _station_of(session, row, contact)
    require(actor.principal, "case.manage", follow_up_target(station, row))
    if row.day > local_day(now):
        raise AppError(
            "follow_up.in_future", "Chưa đến ngày theo dõi này.", {"day": row.day.isoformat()}
        )
    if contact.status == "became_case":
        raise Conflict(
            "follow_up.contact_became_case",
            "Người này đã trở thành ca bệnh, không còn theo dõi như người tiếp xúc.",
            {"case_id": contact.became_case_id},
        )
    if temperature is not None:
        temperature = round(temperature, 1)
    _check_answers(reached, symptoms, temperature)
    status = DONE if reached else MISSED
    cleaned = note.strip()[:300] or None
    before = _values(row)
    after = {"status": status, "symptoms": symptoms, "temperature": temperature, "note": cleaned}
    if row.recorded_at is not None and before == after:
        return row  # the same record again: nothing changes, nothing more to audit
    row.status, row.symptoms, row.temperature, row.note = status, symptoms, temperature, cleaned
    row.done_at = (row.done_at or now) if reached else None
    row.recorded_at = now
    row.done_by_id = actor.principal.user_id if actor.principal else None
    record(
        session,
        actor,
        "follow_up.record",
        now=now,
        object_type="follow_up",
        object_id=row.id,
        area_id=station.id,
        details={
            "contact_id": contact.id,
            "day": row.day.isoformat(),
            **after,
            "replaced": before if before["status"] != DUE else None,
        },
    )
    session.flush()
    return row


def _values(row: FollowUp) -> dict[str, Any]:
    return {
        "status": row.status,
        "symptoms": row.symptoms,
        "temperature": row.temperature,
        "note": row.note,
    }
