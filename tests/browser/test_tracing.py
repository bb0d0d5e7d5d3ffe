"""In headless Chromium on a phone-sized screen, on the demo data: the district's health officer
registers a case for a demo resident, computes the explained candidates, confirms one and then
two at once, finds the F2s of an F1 (list and chain picture), alerts the venues, and records a
confirmed F1's follow-up on the station page; each exposed person gets a notice of what to do
(by SMS when they have a phone); the owner of a venue the case stayed at sees the
alert in their inbox; an official of another district is refused."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select

from phongdich.areas.queries import get_area
from phongdich.core.clock import VN_TZ, SystemClock, format_date, format_datetime, local_day
from phongdich.models import (
    AuditEntry,
    Case,
    Contact,
    ExposureCandidate,
    ExposureNotice,
    FollowUp,
    Person,
    SmsMessage,
    Venue,
    VenueAlert,
    Visit,
)
from tests.browser.conftest import LiveServer, fits_the_screen, screenshot
from tests.browser.test_venue_flow import sign_in_by_code, sign_in_official

pytestmark = pytest.mark.browser
OFFICER = "yte.tpcaobang"  # health officer of Thành phố Cao Bằng
OWNER_PHONE = "0912 000 002"  # owns the demo venue in Phường Sông Hiến
PHONE = {"viewport": {"width": 360, "height": 740}, "locale": "vi-VN"}


def a_resident_who_met_people_at_the_owners_venue(live: LiveServer) -> tuple[Person, Venue]:
    """A demo resident, not yet a case or contact, who stayed at the owner's venue in the last
    two days and shared the most time with others there and elsewhere (a rough count of the
    co-presence the tracing rules will explain), so there are candidates to decide."""
    now = SystemClock().now()
    since = datetime.combine(local_day(now) - timedelta(days=2), time(0), tzinfo=VN_TZ)
    with live.factory() as s:
        venue = s.scalars(select(Venue).where(Venue.owner_user_id.is_not(None))).one()
        taken = set(s.scalars(select(Case.person_id))) | set(s.scalars(select(Contact.person_id)))
        visits = list(s.scalars(select(Visit).where(Visit.checked_in_at >= since)))

        def span(v: Visit) -> tuple[datetime, datetime]:
            stay = timedelta(minutes=v.default_stay_minutes or 60)
            return v.checked_in_at, v.checked_out_at or min(v.checked_in_at + stay, now)

        long_enough = [v for v in visits if span(v)[1] - span(v)[0] >= timedelta(minutes=10)]
        at_venue: dict[int, list[Visit]] = defaultdict(list)
        for v in visits:
            at_venue[v.venue_id].append(v)

        def met(pid: int) -> set[int]:
            out: set[int] = set()
            for v in long_enough:
                if v.person_id == pid:
                    a, b = span(v)
                    out |= {w.person_id for w in at_venue[v.venue_id]
                            if span(w)[0] < b and span(w)[1] > a}  # fmt: skip
            return out - {pid} - taken

        there = {v.person_id for v in long_enough if v.venue_id == venue.id} - taken
        assert there, "the demo owner's venue has no visits to trace"
        best = max(sorted(there), key=lambda pid: len(met(pid)))
        person = s.get(Person, best)
        assert person is not None and person.id_number
        s.expunge_all()
        return person, venue


def test_a_health_officer_traces_a_case_and_the_station_follows_up(
    live_server: LiveServer, browser
) -> None:  # type: ignore[no-untyped-def]
    live = live_server
    resident, venue = a_resident_who_met_people_at_the_owners_venue(live)
    with live.factory() as s:
        song_hien = get_area(s, "2021", "commune", "01267").id
    officer = browser.new_context(**PHONE)
    page = officer.new_page()
    sign_in_official(live, page, OFFICER)
    page.goto(live.url + "/")
    page.get_by_role("link", name="Ca bệnh (F0) trong địa bàn").click()

    # Register the case: the resident has no address yet, so the officer picks the commune.
    page.get_by_label("Tìm người theo họ tên, số giấy tờ hoặc số điện thoại").fill(
        resident.id_number or ""
    )
    page.get_by_role("button", name="Tìm", exact=True).click()
    form = page.locator("form.register-case")
    assert form.count() == 1 and resident.full_name in form.inner_text()
    form.locator('select[name="area_id"]').select_option(str(song_hien))
    form.get_by_role("button", name="Đăng ký ca bệnh").click()
    page.wait_for_url(re.compile(r"/tracing/cases/\d+$"))
    case_id = int(page.url.rsplit("/", 1)[1])
    assert page.get_by_role("heading", name=re.compile(resident.full_name)).is_visible()
    assert fits_the_screen(page)

    # Candidates, each with its explanation; confirm one, then two in one go.
    page.get_by_role("button", name="Tìm người tiếp xúc từ lượt khai báo").click()
    page.wait_for_url(re.compile(r"done=computed"))
    proposed = page.locator('#candidates input[name="candidate_id"]')
    assert proposed.count() >= 3
    assert "phút" in page.locator("#candidates tbody tr").first.inner_text()
    proposed.nth(0).check()
    page.get_by_role("button", name="Xác nhận những người đã chọn").click()
    page.wait_for_url(re.compile(r"done=confirmed"))
    proposed = page.locator('#candidates input[name="candidate_id"]')
    proposed.nth(0).check()
    proposed.nth(1).check()
    page.get_by_role("button", name="Xác nhận những người đã chọn").click()
    page.wait_for_url(re.compile(r"done=confirmed"))
    assert page.locator("#contacts tr.contact.f1").count() == 3
    with live.factory() as s:
        bulk = [
            e.details["bulk"]
            for e in s.scalars(select(AuditEntry).where(AuditEntry.action == "candidate.confirm"))
            if e.details.get("case_id") == case_id
        ]
        assert sorted(bulk) == [False, True, True]
        contacts = list(
            s.scalars(select(Contact).where(Contact.case_id == case_id).order_by(Contact.id))
        )
        first = contacts[0]
        # Each exposed person got a notice saying what to do; those with a phone, by SMS.
        for contact in contacts:
            notice = s.scalars(
                select(ExposureNotice).where(ExposureNotice.contact_id == contact.id)
            ).one()
            assert f"đến hết ngày {format_date(contact.quarantine_end)}" in notice.body
            exposed = s.get_one(Person, contact.person_id)
            if exposed.phone:
                sms = s.get_one(SmsMessage, notice.sms_message_id)
                assert (sms.phone, sms.body) == (exposed.phone, notice.body)
        with_phone = sum(1 for c in contacts if s.get_one(Person, c.person_id).phone)
    assert page.locator("#contacts tr.contact.f1", has_text="(SMS)").count() == with_phone

    # F2 of the first F1: the list and the chain-of-transmission picture.
    page.locator("#contacts tr.contact.f1").first.get_by_role("button", name="Tìm F2").click()
    page.wait_for_url(re.compile(r"done=f2"))
    with live.factory() as s:
        f2 = s.scalars(
            select(ExposureCandidate).where(
                ExposureCandidate.case_id == case_id, ExposureCandidate.generation == 2
            )
        ).all()
        computed = s.get(Contact, first.id)
        assert computed is not None and computed.f2_computed_at is not None
    f2_rows = page.locator("#candidates tbody tr").filter(
        has=page.locator("td", has_text=re.compile(r"^F2$"))
    )
    assert f2_rows.count() == len(f2)
    assert page.locator("#graph svg").is_visible()
    assert fits_the_screen(page)

    # Alert the venues the case stayed at.
    page.get_by_role("button", name="Cảnh báo chủ địa điểm").click()
    page.wait_for_url(re.compile(r"done=alerted"))
    screenshot(page, "tracing-case")
    with live.factory() as s:
        alert = s.scalars(
            select(VenueAlert).where(VenueAlert.case_id == case_id, VenueAlert.venue_id == venue.id)
        ).one()
        window = f"{format_datetime(alert.window_start)} – {format_datetime(alert.window_end)}"
        today = s.scalars(
            select(FollowUp).where(
                FollowUp.contact_id == first.id, FollowUp.day == local_day(SystemClock().now())
            )
        ).one()

    # The station records today's follow-up of the first F1 with one tap.
    page.goto(live.url + "/")
    page.get_by_role("link", name="Theo dõi F1, F2 hằng ngày").click()
    card = page.locator(f"#fu-{today.id}")
    assert "Chưa ghi nhận" in card.inner_text()
    card.get_by_role("button", name="Liên hệ được, khỏe").click()
    page.wait_for_url(re.compile(rf"done={today.id}"))
    assert page.get_by_role("status").inner_text() == "Đã ghi nhận."
    assert "Đã liên hệ" in page.locator(f"#fu-{today.id}").inner_text()
    assert fits_the_screen(page)
    screenshot(page, "tracing-follow-ups")
    with live.factory() as s:
        recorded = s.get(FollowUp, today.id)
        assert recorded is not None and (recorded.status, recorded.symptoms) == ("done", False)

    # The owner sees the alert, without the case's name.
    owner = browser.new_context(**PHONE)
    o_page = owner.new_page()
    sign_in_by_code(live, o_page, OWNER_PHONE)
    o_page.goto(live.url + "/me/venue-alerts")
    alerts = o_page.locator("section.venue-alert")
    assert alerts.filter(has_text=window).count() == 1
    assert venue.name in alerts.filter(has_text=window).inner_text()
    assert resident.full_name not in o_page.content()
    assert fits_the_screen(o_page)

    # A district official of Hòa An may neither see the case nor record follow-ups.
    elsewhere = browser.new_context(**PHONE)
    e_page = elsewhere.new_page()
    sign_in_official(live, e_page, "huyen.hoaan")
    for path in (f"/tracing/cases/{case_id}", "/tracing/follow-ups"):
        response = e_page.goto(live.url + path)
        assert response is not None and response.status == 403
        assert fits_the_screen(e_page)
    for ctx in (officer, owner, elsewhere):
        ctx.close()
