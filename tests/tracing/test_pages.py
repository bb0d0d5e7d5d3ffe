"""End to end through the real check-in services and the pages: staff record visits, an officer
registers a case, gets the candidates, confirms some, finds the F2s; the owner sees the alert in
their inbox and the exposed citizen sees the notice. Plus the counts and common sources."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from phongdich.areas.queries import get_area
from phongdich.audit.service import Actor
from phongdich.auth.roles import Role
from phongdich.auth.service import principal_for
from phongdich.checkins.service import KHAI_HO, check_out, record_check_in
from phongdich.models import Contact, ExposureCandidate, Person, SmsMessage, Venue
from tests.checkins.factories import citizen_with_person
from tests.conftest import T0
from tests.factories import HOA_AN, SONG_HIEN, TP_CAO_BANG, sign_in, venue_user
from tests.tracing.factories import at, officer, person, venue
from tests.venues.factories import citizen
from tests.venues.test_api import sign_in_by_phone


def scan(
    db: Session, staff: Actor, who: Person, where: Venue, start: datetime, end: datetime
) -> None:
    """A staff member records the person at the door, and their leaving (real services)."""
    recorded = record_check_in(db, staff, person=who, venue=where, now=start, source=KHAI_HO)
    check_out(db, staff, recorded.visit, now=end)


def staff_of(db: Session, where: Venue) -> Actor:
    return Actor(principal_for(db, venue_user(db, Role.VENUE_STAFF, where.id)))


def test_register_trace_confirm_f2_alert_and_notice(client: TestClient, db: Session) -> None:
    me, _ = officer(db, name="Đàm Thị Y")
    owner = citizen(db, name="Chủ chợ Hà")
    market = venue(db, "Chợ Sông Hiến", owner_user_id=owner.id, contact_phone="+84912000444")
    shop = venue(db, "Tiệm may Hạnh")
    case_person = person(db, "Nông Văn Ca")
    exposed_user, exposed = citizen_with_person(db, name="Lý Thị Gặp")
    exposed.area_id = get_area(db, "2021", *SONG_HIEN).id
    brief = person(db, "Bế Văn Thoáng")
    later = person(db, "Sầm Văn Sau")
    at_market, at_shop = staff_of(db, market), staff_of(db, shop)
    scan(db, at_market, case_person, market, at(13, 9), at(13, 10))
    scan(db, at_market, exposed, market, at(13, 9, 20), at(13, 10, 30))
    scan(db, at_market, brief, market, at(13, 10, 25), at(13, 10, 35))
    scan(db, at_shop, exposed, shop, at(14, 15), at(14, 16))
    scan(db, at_shop, later, shop, at(14, 15, 10), at(14, 15, 50))
    db.flush()

    csrf = sign_in(client, me)
    r = client.post(
        "/api/v1/tracing/cases",
        json={"person_id": case_person.id, "confirmed_on": "2021-11-15", "onset_on": "2021-11-14"},
        headers={"x-csrf-token": csrf},
    )
    case_id = r.json()["id"]
    form = {"csrf_token": csrf}
    assert client.post(f"/tracing/cases/{case_id}/candidates", data=form).status_code == 200
    page = client.get(f"/tracing/cases/{case_id}").text
    assert "Lý Thị Gặp" in page and "Bế Văn Thoáng" in page and "<svg" in page
    title = re.search(r"<title>(.*?)</title>", page, re.S)
    assert title is not None and re.fullmatch(r"BN-[\d-]+ · phongdich", title.group(1).strip())
    cands = {
        c.person_id: c
        for c in db.scalars(select(ExposureCandidate).where(ExposureCandidate.case_id == case_id))
    }
    assert cands[exposed.id].category == "f1_likely"
    assert cands[brief.id].category == "f1_candidate"  # 10:25–10:32: 7 minutes
    r = client.post(
        f"/tracing/cases/{case_id}/decisions",
        data={**form, "decision": "confirmed", "candidate_id": [str(cands[exposed.id].id)]},
    )
    assert r.status_code == 200
    contact = db.scalar(select(Contact).where(Contact.person_id == exposed.id))
    assert contact is not None and contact.station_area_id == exposed.area_id
    client.post(f"/tracing/contacts/{contact.id}/f2", data=form)
    page = client.get(f"/tracing/cases/{case_id}").text
    assert "Sầm Văn Sau" in page  # the F2, met at the shop the next day
    assert client.post(f"/tracing/cases/{case_id}/alerts", data=form).status_code == 200
    assert db.scalar(select(SmsMessage).where(SmsMessage.phone == "+84912000444")) is not None

    client.cookies.clear()
    assert owner.phone is not None
    sign_in_by_phone(client, db, owner.phone)
    inbox = client.get("/me/venue-alerts").text
    assert "Chợ Sông Hiến" in inbox and "13/11/2021 08:58" in inbox
    assert "Nông Văn Ca" not in inbox  # the owner is never told who the case is

    client.cookies.clear()
    assert exposed_user.phone is not None
    sign_in_by_phone(client, db, exposed_user.phone)
    notices = client.get("/me/notices").text
    assert "Lý Thị Gặp" in notices and "Chợ Sông Hiến" in notices
    assert "Nông Văn Ca" not in notices
    history = client.get("/me/visits").text
    assert re.search(r"Truy vết F2 của ca bệnh BN-04-\d+", history)  # their own look-up log


def test_a_health_officer_of_another_district_gets_403(client: TestClient, db: Session) -> None:
    me, actor = officer(db)
    case_person = person(db, "Nông Văn Ca")
    from datetime import date

    from phongdich.tracing.service import register_case

    case = register_case(db, actor, person=case_person, confirmed_on=date(2021, 11, 15), now=T0)
    other, _ = officer(db, HOA_AN)
    sign_in(client, other)
    assert client.get(f"/tracing/cases/{case.id}").status_code == 403
    assert client.get(f"/tracing/cases/{case.id}/graph.svg").status_code == 403
    assert case.code not in client.get("/tracing/cases").text
    client.cookies.clear()
    sign_in(client, me)
    assert case.code in client.get("/tracing/cases").text
    svg = client.get(f"/tracing/cases/{case.id}/graph.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml") and case.code in svg.text


@pytest.mark.parametrize("scope", [TP_CAO_BANG])
def test_counts_and_common_sources(client: TestClient, db: Session, scope: tuple[str, str]) -> None:
    from datetime import date

    from phongdich.messaging.sms import OutboxSender
    from phongdich.tracing.contacts import decide
    from phongdich.tracing.service import candidates_of, compute_candidates, register_case
    from tests.tracing.factories import visit

    me, actor = officer(db, scope)
    market, bus = venue(db, "Chợ Sông Hiến"), venue(db, "Bến xe Cao Bằng")
    a, b = person(db, "Ca Một"), person(db, "Ca Hai", phone="+84912000888")
    c = person(db, "Người Gặp")  # no phone and no account: a notice for them reaches no one
    visit(db, a, bus, at(12, 7), at(12, 8))
    visit(db, b, bus, at(12, 7, 30), at(12, 9))  # the same bus station, unlinked cases
    visit(db, a, market, at(13, 9), at(13, 10))
    visit(db, c, market, at(13, 9), at(13, 10))
    case_a = register_case(db, actor, person=a, confirmed_on=date(2021, 11, 14), now=T0)
    compute_candidates(db, actor, case_a, now=T0)
    found = {x.person_id: x for x in candidates_of(db, case_a)}
    decide(db, actor, [found[c.id].id, found[b.id].id], "confirmed", now=T0, sms=OutboxSender())
    register_case(db, actor, person=c, confirmed_on=date(2021, 11, 15), now=T0 + timedelta(hours=1))
    sign_in(client, me)
    page = client.get("/tracing/counts").text
    row = re.search(r">Phường Sông Hiến, Thành phố Cao Bằng.*?</tr>", page, re.S)
    assert row is not None
    cells = re.findall(r"<td>(\d+)</td>", row.group(0))
    # Two new F0, one of them (Người Gặp) already on an F1 list; two F1 listed, one reached
    # (Ca Hai, by SMS); one still in quarantine (the other became a case); no follow-up day
    # has passed yet; nobody recovered or died.
    assert cells == ["2", "1", "2", "1", "1", "0", "0", "0"]
    sources = client.get("/tracing/common-sources").text
    # Ca Hai is Ca Một's F1, so the bus station links nothing new; the market links Ca Một to
    # Người Gặp, who were already linked too: nothing to show.
    assert "Bến xe Cao Bằng" not in sources and "Chợ Sông Hiến" not in sources
