"""Warnings: venue owners are alerted (in-app and SMS) with the time window and a checklist;
exposed people get a notice with what to do (in-app for whoever holds their account, SMS to
their phone). Neither ever names the case.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from phongdich.audit.service import Actor, record
from phongdich.auth.policy import Principal, objects_for, require
from phongdich.core.clock import format_date, format_datetime
from phongdich.core.errors import AppError, NotFound
from phongdich.core.i18n import N_
from phongdich.messaging.sms import SmsSender
from phongdich.models import (
    Area,
    Case,
    Contact,
    ExposureCandidate,
    ExposureNotice,
    Person,
    User,
    Venue,
    VenueAlert,
)
from phongdich.tracing.exposure import case_exposure_interval
from phongdich.tracing.queries import case_target, stays_of_person
from phongdich.tracing.rules import exposure_rules_on

CHECKLIST = {
    "disinfect": N_("Khử khuẩn toàn bộ khu vực"),
    "list_staff": N_("Lập danh sách nhân viên làm việc trong khung giờ"),
    "post_notice": N_("Dán thông báo cho khách đã đến trong khung giờ"),
}


def venue_windows(session: Session, case_obj: Case) -> dict[int, tuple[datetime, datetime]]:
    """Per venue, the span when others could have been exposed (the case's qualifying stays,
    widened by the clock-skew buffer and the lingering air), within the infectious window."""
    rules = exposure_rules_on(case_obj.confirmed_on)
    window = (case_obj.window_start, case_obj.window_end)
    spans: dict[int, tuple[datetime, datetime]] = {}
    for s in stays_of_person(session, case_obj.person_id, window, rules):
        if s.end - s.start < rules.min_case_stay:
            continue
        lo, hi = case_exposure_interval(s, rules)
        lo, hi = max(lo, window[0]), min(hi, window[1])
        old = spans.get(s.venue_id)
        spans[s.venue_id] = (min(old[0], lo), max(old[1], hi)) if old else (lo, hi)
    return spans


def alert_venues(
    session: Session, actor: Actor, case_obj: Case, *, now: datetime, sms: SmsSender | None
) -> list[VenueAlert]:
    """Alert the owner of every venue the case stayed at while infectious (once per venue)."""
    area = session.get(Area, case_obj.area_id)
    assert area is not None
    require(actor.principal, "case.manage", case_target(area, case_obj))
    spans = venue_windows(session, case_obj)
    done = set(
        session.scalars(select(VenueAlert.venue_id).where(VenueAlert.case_id == case_obj.id))
    )
    venues = {
        v.id: v for v in session.scalars(select(Venue).where(Venue.id.in_(set(spans) - done)))
    }
    owners = {
        u.id: u
        for u in session.scalars(
            select(User).where(User.id.in_({v.owner_user_id for v in venues.values()} - {None}))
        )
    }
    created: list[VenueAlert] = []
    for venue_id, (lo, hi) in sorted(spans.items(), key=lambda kv: kv[1][0]):
        venue = venues.get(venue_id)
        if venue is None:
            continue
        alert = VenueAlert(
            venue_id=venue.id,
            case_id=case_obj.id,
            window_start=lo,
            window_end=hi,
            checklist=[{"key": k, "done": False, "done_at": None} for k in CHECKLIST],
            created_at=now,
            created_by_id=actor.principal.user_id if actor.principal else None,
        )
        owner = owners.get(venue.owner_user_id) if venue.owner_user_id else None
        phone = venue.contact_phone or (owner.phone if owner else None)
        if sms is not None and phone:
            body = (
                f"[Phong dich] Dia diem {venue.name}: co ca F0 den trong khung gio "
                f"{format_datetime(lo)} - {format_datetime(hi)}. Vui long khu khuan, lap danh "
                "sach nhan vien ca lam, dan thong bao. Xem chi tiet tren trang cua chu dia diem."
            )
            alert.sms_message_id = sms.queue(session, phone, body, "venue_alert", now).id
        session.add(alert)
        created.append(alert)
    case_obj.venues_alerted_at = now
    record(
        session,
        actor,
        "case.venues.alert",
        now=now,
        object_type="case",
        object_id=case_obj.id,
        area_id=case_obj.area_id,
        details={"venues": [a.venue_id for a in created]},
    )
    session.flush()
    return created


def notice_text(contact: Contact, venue_name: str | None, exposed_at: datetime | None) -> str:
    """What to do, in plain Vietnamese (the page translates the headings, not this record)."""
    where = f" tại {venue_name}" if venue_name else ""
    when = f" lúc {format_datetime(exposed_at)}" if exposed_at else ""
    if contact.generation == 1:
        return (
            f"Bạn đã tiếp xúc gần với một ca bệnh{where}{when}. Hãy cách ly "
            f"{'tại nhà' if contact.quarantine_place == 'home' else 'theo hướng dẫn'} đến hết "
            f"ngày {format_date(contact.quarantine_end)}, đeo khẩu trang, không tiếp xúc người "
            "khác, theo dõi sức khỏe hằng ngày và báo ngay cho trạm y tế xã khi sốt, ho, khó thở. "
            "Trạm y tế xã sẽ liên hệ để hẹn lấy mẫu xét nghiệm."
        )
    return (
        f"Bạn đã tiếp xúc với một người đang được cách ly{where}{when}. Hãy ở nhà, hạn chế tiếp "
        f"xúc và theo dõi sức khỏe đến hết ngày {format_date(contact.quarantine_end)}; báo trạm "
        "y tế xã khi có triệu chứng."
    )


def notify_contact(
    session: Session,
    contact: Contact,
    person: Person,
    candidate: ExposureCandidate | None,
    *,
    now: datetime,
    sms: SmsSender | None,
) -> ExposureNotice:
    """One notice per contact: in-app for the account acting for the person, SMS to a phone."""
    venue_name, exposed_at = None, contact.exposure_to
    if candidate is not None and candidate.explanation.get("contacts"):
        latest = candidate.explanation["contacts"][-1]
        venue_name = latest.get("venue") or None
        exposed_at = datetime.fromisoformat(latest["contact"]["start"])
    body = notice_text(contact, venue_name, exposed_at)
    notice = ExposureNotice(
        person_id=person.id,
        contact_id=contact.id,
        user_id=person.user_id or person.guardian_user_id,
        generation=contact.generation,
        venue_name=venue_name,
        exposed_at=exposed_at,
        quarantine_end=contact.quarantine_end,
        body=body[:1000],
        created_at=now,
    )
    phone = person.phone
    if phone is None and notice.user_id is not None:
        holder = session.get(User, notice.user_id)
        phone = holder.phone if holder else None
    if sms is not None and phone:
        notice.sms_message_id = sms.queue(session, phone, body[:480], "exposure_notice", now).id
    session.add(notice)
    session.flush()
    return notice


# The owner's inbox and the citizen's notices.


def owner_alerts(session: Session, principal: Principal, user_id: int | None) -> list[VenueAlert]:
    """Alerts for the venues the principal owns or manages, newest first."""
    venue_ids = objects_for(principal, "venue.manage", "venue")
    conds = [VenueAlert.venue_id.in_(venue_ids)] if venue_ids else []
    if user_id is not None:
        conds.append(
            VenueAlert.venue_id.in_(select(Venue.id).where(Venue.owner_user_id == user_id))
        )
    if not conds:
        return []
    return list(
        session.scalars(
            select(VenueAlert)
            .where(or_(*conds))
            .order_by(VenueAlert.created_at.desc(), VenueAlert.id.desc())
            .limit(200)
        )
    )


def _owner_alert(session: Session, actor: Actor, alert_id: int) -> VenueAlert:
    p = actor.principal
    alert = session.get(VenueAlert, alert_id)
    if alert is None or p is None or alert not in owner_alerts(session, p, p.user_id):
        raise NotFound("venue_alert.not_found", "Không tìm thấy cảnh báo.")
    return alert


def tick_alert(
    session: Session,
    actor: Actor,
    alert_id: int,
    *,
    now: datetime,
    done_keys: set[str] | None = None,
) -> VenueAlert:
    """The owner reads an alert, and ticks what has been done on its checklist."""
    alert = _owner_alert(session, actor, alert_id)
    unknown = (done_keys or set()) - set(CHECKLIST)
    if unknown:
        raise AppError("venue_alert.item_unknown", "Mục công việc không hợp lệ.")
    if alert.read_at is None:
        alert.read_at = now
        alert.read_by_id = actor.principal.user_id if actor.principal else None
    if done_keys is not None:
        alert.checklist = [
            {
                "key": item["key"],
                "done": item["key"] in done_keys,
                "done_at": (item.get("done_at") or now.isoformat())
                if item["key"] in done_keys
                else None,
            }
            for item in alert.checklist
        ]
    record(
        session,
        actor,
        "venue_alert.update",
        now=now,
        object_type="venue_alert",
        object_id=alert.id,
        details={"done": sorted(done_keys or [])},
    )
    session.flush()
    return alert


def notices_for(session: Session, user_id: int) -> list[ExposureNotice]:
    """The notices for a citizen and the dependants they act for, newest first."""
    return list(
        session.scalars(
            select(ExposureNotice)
            .where(ExposureNotice.user_id == user_id)
            .order_by(ExposureNotice.created_at.desc(), ExposureNotice.id.desc())
            .limit(100)
        )
    )


def mark_notices_read(session: Session, user_id: int, *, now: datetime) -> int:
    n = 0
    for notice in notices_for(session, user_id):
        if notice.read_at is None:
            notice.read_at, n = now, n + 1
    session.flush()
    return n


def alerts_by_case(session: Session, case_obj: Case) -> dict[int, VenueAlert]:
    return {
        a.venue_id: a
        for a in session.scalars(select(VenueAlert).where(VenueAlert.case_id == case_obj.id))
    }


def notices_by_contact(session: Session, contact_ids: list[int]) -> dict[int, ExposureNotice]:
    found: dict[int, ExposureNotice] = {}
    if contact_ids:
        for n in session.scalars(
            select(ExposureNotice).where(ExposureNotice.contact_id.in_(contact_ids))
        ):
            found[n.contact_id] = n
    return found
