"""Tracing services on a real database: a case, its explained candidates, decisions, quarantine
and follow-up, F2, becoming a case, venue alerts, notices and the mốc dịch tễ."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from phongdich.audit.service import Actor
from phongdich.auth.service import principal_for
from phongdich.core.errors import AppError, Conflict, Forbidden
from phongdich.messaging.sms import OutboxSender
from phongdich.models import (
    AuditEntry,
    Case,
    Contact,
    ExposureCandidate,
    FollowUp,
    HistoryLookup,
    Person,
    SmsMessage,
    User,
    Venue,
)
from phongdich.tracing.contacts import compute_f2, contact_becomes_case, decide
from phongdich.tracing.follow_ups import record_follow_up
from phongdich.tracing.service import candidates_of, compute_candidates, register_case
from phongdich.tracing.timeline import approve_timeline, timeline_of
from phongdich.tracing.warnings import alert_venues, notices_for, owner_alerts, tick_alert
from tests.conftest import T0
from tests.factories import HOA_AN
from tests.tracing.factories import at, officer, person, venue, visit
from tests.venues.factories import citizen


@dataclass
class World:
    officer: User
    actor: Actor
    case_person: Person
    owner: User
    market: Venue  # where the case stayed an hour
    cafe: Venue  # an open visit, ended by the case's next check-in
    kiosk: Venue  # five minutes only: below the minimum case stay
    people: dict[str, Person]


@pytest.fixture
def world(db: Session) -> World:
    me, actor = officer(db, name="Đàm Thị Y")
    owner = citizen(db, name="Chủ chợ")
    market = venue(db, "Chợ Sông Hiến", owner_user_id=owner.id, contact_phone="+84912000111")
    cafe, kiosk, other = venue(db, "Quán cà phê Hương"), venue(db, "Ki-ốt báo"), venue(db)
    case_person = person(db, "Nông Văn Ca", address="Số 9 phố Vườn Cam")
    account = citizen(db, name="Lý Thị Có Tài Khoản")
    people = {
        "long": person(db, "Hoàng Văn Lâu", phone="+84912000222"),
        "short": person(db, "Bế Thị Ngắn", user=account),
        "same_day": person(db, "La Văn Chiều"),
        "before": person(db, "Đinh Văn Trước"),
        "elsewhere": person(db, "Mã Thị Khác"),
        "house": person(db, "Nông Thị Nhà", address="Số 9 phố Vườn Cam"),
        "cafe": person(db, "Triệu Văn Quán"),
        "kiosk": person(db, "Lục Thị Ki"),
    }
    visit(db, case_person, market, at(13, 9), at(13, 10))
    visit(db, people["long"], market, at(13, 9, 30), at(13, 11))
    visit(db, people["short"], market, at(13, 10, 20), at(13, 10, 40))
    visit(db, people["same_day"], market, at(13, 15), at(13, 16))
    visit(db, people["before"], market, at(11, 9), at(11, 10))
    visit(db, people["elsewhere"], other, at(13, 9), at(13, 10))
    visit(db, case_person, cafe, at(14, 19), None)  # open: the next check-in ends it
    visit(db, people["cafe"], cafe, at(14, 19, 30), None, stay_minutes=60)
    visit(db, case_person, kiosk, at(14, 19, 40), at(14, 19, 45))
    visit(db, people["kiosk"], kiosk, at(14, 19, 40), at(14, 20))
    return World(me, actor, case_person, owner, market, cafe, kiosk, people)


def register(db: Session, w: World) -> Case:
    return register_case(
        db, w.actor, person=w.case_person, confirmed_on=date(2021, 11, 15),
        sample_on=date(2021, 11, 14), now=T0,
    )  # fmt: skip


def by_name(db: Session, case: Case, generation: int = 1) -> dict[str, ExposureCandidate]:
    names = dict(db.execute(select(Person.id, Person.full_name)).all())
    return {names[c.person_id]: c for c in candidates_of(db, case, generation=generation)}


def test_a_case_gets_its_window_and_explained_candidates(db: Session, world: World) -> None:
    case = register(db, world)
    assert case.code.startswith("BN-04-")
    # No symptoms: 2 days before the sample (14/11) to the end of the confirmation day.
    assert (case.window_start, case.window_end) == (at(12, 0), at(16, 0))
    assert case.rules_version == "2021-10-exposure-1"
    compute_candidates(db, world.actor, case, now=T0)
    found = by_name(db, case)
    assert set(found) == {
        "Hoàng Văn Lâu", "Bế Thị Ngắn", "La Văn Chiều", "Nông Thị Nhà", "Triệu Văn Quán",
    }  # fmt: skip
    lau = found["Hoàng Văn Lâu"]
    # 09:30 to the case's 10:00 plus 30 minutes of air and a 2-minute clock buffer.
    assert (lau.category, lau.best_daily_minutes) == ("f1_likely", 62)
    contact = lau.explanation["contacts"][0]
    assert contact["venue"] == "Chợ Sông Hiến" and contact["case"]["end_rule"] == "explicit"
    assert lau.explanation["rules_version"] == "2021-10-exposure-1"
    assert (found["Bế Thị Ngắn"].category, found["Bế Thị Ngắn"].best_daily_minutes) == (
        "f1_candidate",
        12,
    )
    chieu = found["La Văn Chiều"]
    assert chieu.category == "same_venue_same_day" and chieu.explanation["same_day"][0]["day"] == (
        "2021-11-13"
    )
    assert found["Nông Thị Nhà"].household and found["Nông Thị Nhà"].category == "f1_likely"
    quan = found["Triệu Văn Quán"].explanation["contacts"][0]
    # Neither visit was closed: the case's by the next check-in (19:40), the other's by the
    # café's default stay (20:30).
    assert quan["case"]["end_rule"] == "next_checkin"
    assert quan["contact"]["end_rule"] == "default_stay"
    assert found["Triệu Văn Quán"].best_daily_minutes == 42  # 19:30–20:12
    # The history look-up is logged with the case as its purpose, where the person sees it.
    lookup = db.scalar(select(HistoryLookup).where(HistoryLookup.person_id == case.person_id))
    assert lookup is not None and lookup.case_ref == case.code and case.code in lookup.purpose


def test_computing_again_keeps_decisions_and_refreshes_the_rest(db: Session, world: World) -> None:
    case = register(db, world)
    compute_candidates(db, world.actor, case, now=T0)
    first = by_name(db, case)
    decide(db, world.actor, [first["Bế Thị Ngắn"].id], "rejected", now=T0)
    compute_candidates(db, world.actor, case, now=T0 + timedelta(hours=1))
    again = by_name(db, case)
    assert again["Bế Thị Ngắn"].status == "rejected"
    assert again["Hoàng Văn Lâu"].id == first["Hoàng Văn Lâu"].id
    assert db.scalar(select(func.count()).select_from(ExposureCandidate)) == len(first)


def test_only_health_officers_of_the_area_register_and_trace(db: Session, world: World) -> None:
    _, elsewhere = officer(db, HOA_AN)
    with pytest.raises(Forbidden):
        register_case(db, elsewhere, person=world.case_person, confirmed_on=date(2021, 11, 15),
                      now=T0)  # fmt: skip
    case = register(db, world)
    with pytest.raises(Forbidden):
        compute_candidates(db, elsewhere, case, now=T0)
    with pytest.raises(Conflict):
        register(db, world)


def test_confirmed_contacts_get_quarantine_follow_up_and_a_notice(
    db: Session, world: World, sms: OutboxSender
) -> None:
    case = register(db, world)
    compute_candidates(db, world.actor, case, now=T0)
    found = by_name(db, case)
    chosen = [found[n].id for n in ("Hoàng Văn Lâu", "Bế Thị Ngắn", "Nông Thị Nhà")]
    decide(db, world.actor, chosen, "confirmed", now=T0, sms=sms)
    decide(db, world.actor, [found["La Văn Chiều"].id], "rejected", now=T0)
    lau = db.scalar(select(Contact).where(Contact.person_id == world.people["long"].id))
    assert lau is not None and lau.generation == 1
    # 14 days from the last exposure (13/11), vaccination unknown; starts the day confirmed.
    assert (lau.quarantine_start, lau.quarantine_end) == (date(2021, 11, 15), date(2021, 11, 27))
    assert lau.quarantine_rule_version == "2021-10-11-quarantine-7-vaccinated"
    assert lau.station_area_id == world.people["long"].area_id
    days = db.scalars(select(FollowUp.day).where(FollowUp.contact_id == lau.id)).all()
    assert len(days) == 13 and min(days) == date(2021, 11, 15)
    sms_rows = db.scalars(select(SmsMessage).where(SmsMessage.phone == "+84912000222")).all()
    assert len(sms_rows) == 1 and "27/11/2021" in sms_rows[0].body
    assert "Nông Văn Ca" not in sms_rows[0].body  # a notice never names the case
    short_owner = world.people["short"].user_id
    assert short_owner is not None
    notices = notices_for(db, short_owner)
    assert len(notices) == 1 and notices[0].venue_name == "Chợ Sông Hiến"
    actions = db.scalars(
        select(AuditEntry.action).where(AuditEntry.action.like("candidate.%"))
    ).all()
    assert sorted(actions) == ["candidate.confirm"] * 3 + ["candidate.reject"]
    with pytest.raises(AppError) as err:
        decide(db, world.actor, [found["La Văn Chiều"].id], "confirmed", now=T0)
    assert err.value.code == "candidate.already_decided"
    follow = db.scalars(select(FollowUp).where(FollowUp.contact_id == lau.id)).first()
    assert follow is not None
    recorded = record_follow_up(db, world.actor, follow.id, reached=True, symptoms=False, now=T0)
    assert recorded.status == "done"


def test_f2_counts_only_between_the_f1_exposure_and_quarantine(db: Session, world: World) -> None:
    case = register(db, world)
    compute_candidates(db, world.actor, case, now=T0)
    found = by_name(db, case)
    decide(db, world.actor, [found["Hoàng Văn Lâu"].id], "confirmed", now=T0)
    lau = world.people["long"]
    shop = venue(db, "Tiệm may Hạnh")
    visit(db, lau, shop, at(14, 10), at(14, 11))
    visit(db, person(db, "Sầm Văn Gặp"), shop, at(14, 10, 10), at(14, 10, 50))
    visit(db, lau, shop, at(16, 10), at(16, 11))  # after quarantine began: not counted
    visit(db, person(db, "Hà Thị Sau"), shop, at(16, 10, 10), at(16, 10, 50))
    visit(db, lau, shop, at(12, 10), at(12, 11))  # before their own exposure: not counted
    visit(db, person(db, "Lò Văn Trước"), shop, at(12, 10, 10), at(12, 10, 50))
    contact = db.scalar(select(Contact).where(Contact.person_id == lau.id))
    assert contact is not None
    compute_f2(db, world.actor, contact, now=T0)
    f2 = by_name(db, case, generation=2)
    assert set(f2) == {"Sầm Văn Gặp"}
    assert f2["Sầm Văn Gặp"].source_contact_id == contact.id
    decide(db, world.actor, [f2["Sầm Văn Gặp"].id], "confirmed", now=T0)
    f2_contact = db.scalar(select(Contact).where(Contact.generation == 2))
    assert f2_contact is not None and f2_contact.source_contact_id == contact.id
    assert f2_contact.quarantine_end == contact.quarantine_end
    assert f2_contact.quarantine_place == "home_monitoring"


def test_a_contact_becomes_a_case_in_one_step(db: Session, world: World) -> None:
    case = register(db, world)
    compute_candidates(db, world.actor, case, now=T0)
    decide(db, world.actor, [by_name(db, case)["Hoàng Văn Lâu"].id], "confirmed", now=T0)
    contact = db.scalar(select(Contact).where(Contact.person_id == world.people["long"].id))
    assert contact is not None
    new = contact_becomes_case(db, world.actor, contact, confirmed_on=date(2021, 11, 15), now=T0)
    assert new.classification == "in_quarantine" and new.person_id == contact.person_id
    assert (contact.status, contact.became_case_id) == ("became_case", new.id)


def test_venue_owners_are_alerted_with_a_window_and_a_checklist(
    db: Session, world: World, sms: OutboxSender
) -> None:
    case = register(db, world)
    alerts = alert_venues(db, world.actor, case, now=T0, sms=sms)
    # The kiosk visit lasted 5 minutes: below the minimum stay, no alert.
    assert {a.venue_id for a in alerts} == {world.market.id, world.cafe.id}
    market = next(a for a in alerts if a.venue_id == world.market.id)
    assert (market.window_start, market.window_end) == (at(13, 8, 58), at(13, 10, 32))
    text = db.scalars(select(SmsMessage.body).where(SmsMessage.phone == "+84912000111")).one()
    assert "Chợ Sông Hiến" in text and "13/11/2021 08:58" in text
    owner_actor = Actor(principal_for(db, world.owner))
    assert owner_actor.principal is not None
    inbox = owner_alerts(db, owner_actor.principal, world.owner.id)
    assert [a.id for a in inbox] == [market.id]
    ticked = tick_alert(db, owner_actor, market.id, now=T0, done_keys={"disinfect"})
    assert ticked.read_at == T0
    assert [i["done"] for i in ticked.checklist] == [True, False, False]
    assert alert_venues(db, world.actor, case, now=T0, sms=sms) == []  # once per venue


def test_the_timeline_is_published_only_by_a_second_official(db: Session, world: World) -> None:
    case = register(db, world)
    timeline = timeline_of(db, case)
    assert timeline is not None and timeline.status == "draft"
    assert [e["venue"] for e in timeline.entries] == ["Chợ Sông Hiến", "Quán cà phê Hương"]
    with pytest.raises(AppError) as err:
        approve_timeline(db, world.actor, case, now=T0)
    assert (err.value.code, err.value.status) == ("timeline.second_official_required", 403)
    _, second = officer(db, name="Cán bộ duyệt")
    assert approve_timeline(db, second, case, now=T0).status == "published"
