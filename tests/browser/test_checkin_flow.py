"""In headless Chromium on a phone-sized screen: a citizen scans a venue poster and checks in
with a dependant, then checks out; venue staff record people with the scanner page, from a
keyboard-wedge scanner's string (personal QR, chip CCCD) and from a typed ID number."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from urllib.parse import urlparse

import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from phongdich.audit.service import SYSTEM
from phongdich.auth.roles import Role
from phongdich.auth.service import create_user
from phongdich.core.clock import SystemClock
from phongdich.demo.service import DEMO_PASSWORD
from phongdich.models import Person, SmsMessage, User, Venue, Visit
from phongdich.people.personal_qr import qr_url, token_for
from phongdich.people.service import PersonDraft, add_dependant, ensure_self
from phongdich.venues.posters import posters_pdf
from phongdich.venues.queries import OPERATING
from tests.browser.conftest import LiveServer, fits_the_screen, screenshot
from tests.browser.test_venue_flow import sign_in_official
from tests.venues.factories import actor_of

pytestmark = pytest.mark.browser
CITIZEN_PHONE = "+84912000001"


def decode_poster(pdf: bytes) -> str:
    doc = pdfium.PdfDocument(pdf)
    try:
        image = doc[0].render(scale=2.0).to_pil()
    finally:
        doc.close()
    results = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(results) == 1
    return results[0].text


def a_venue(live: LiveServer, offset: int = 0) -> Venue:
    with live.factory() as s:
        venue = s.scalars(
            select(Venue).where(Venue.status.in_(OPERATING)).order_by(Venue.id).offset(offset)
        ).first()
        assert venue is not None
        return venue


def sign_in_citizen(live: LiveServer, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(live.url + "/login")
    page.get_by_label("Số điện thoại").fill("0912 000 001")
    page.get_by_role("button", name="Nhận mã qua SMS").click()
    page.get_by_label("Mã gồm 6 chữ số").wait_for()
    with live.factory() as s:
        body = s.scalars(
            select(SmsMessage.body)
            .where(SmsMessage.phone == CITIZEN_PHONE)
            .order_by(SmsMessage.id.desc())
        ).first()
    code = re.search(r"\b(\d{6})\b", body or "")
    assert code
    page.get_by_label("Mã gồm 6 chữ số").fill(code.group(1))
    page.get_by_role("button", name="Xác nhận").click()
    page.wait_for_url(live.url + "/")


def new_staff(s, venue: Venue, username: str, full_name: str) -> None:  # type: ignore[no-untyped-def]
    create_user(
        s, SYSTEM, now=SystemClock().now(), full_name=full_name, username=username,
        password=DEMO_PASSWORD, role=Role.VENUE_STAFF, object_type="venue",
        object_id=venue.id, check=False,
    )  # fmt: skip


def test_citizen_checks_in_from_a_poster_with_a_dependant_then_checks_out(
    live_server: LiveServer, page
) -> None:  # type: ignore[no-untyped-def]
    venue = a_venue(live_server)
    with live_server.factory() as s:
        pdf = posters_pdf(s, [s.get(Venue, venue.id)], base_url="https://phongdich.example",
                          now=SystemClock().now())  # fmt: skip
        s.commit()
    url = decode_poster(pdf)
    path = urlparse(url).path
    assert path.startswith("/v/")

    sign_in_citizen(live_server, page)
    page.goto(live_server.url + "/me/qr")
    form = page.locator("form[action='/me/dependants']")
    form.get_by_label("Họ và tên").fill("Triệu Văn Bé")
    form.get_by_label("Năm sinh").fill("2016")
    form.get_by_role("button", name="Thêm người thân").click()
    assert page.get_by_role("status").inner_text() == "Đã thêm người thân."

    page.goto(live_server.url + path)  # what the phone camera opens
    assert page.get_by_role("heading", name=venue.name).is_visible()
    page.goto(live_server.url + path + "/checkin")
    assert page.get_by_text("Bạn đang khai báo vào").is_visible()
    page.get_by_label("Triệu Văn Bé").check()
    screenshot(page, "checkin-confirm")
    page.get_by_role("button", name="Xác nhận khai báo").click()
    page.wait_for_url(re.compile(r".*/me/visits\?done=in$"))
    current = page.locator("li.current-visit")
    assert current.count() == 2
    page.get_by_role("button", name="Ra về: Triệu Văn Bé").click()
    assert page.get_by_role("status").inner_text() == "Đã ghi nhận ra về."
    assert page.locator("li.current-visit").count() == 1
    # On the phone every column of the history shows, each visit a block under its labels.
    assert fits_the_screen(page)
    method = page.locator("td[data-label='Cách ghi nhận']").first
    assert method.inner_text() == "Tự quét mã địa điểm"
    box = method.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 360
    screenshot(page, "checkin-my-visits")
    # The personal QR fits the card, and a phone camera (zxing here) reads it off the screen.
    page.goto(live_server.url + "/me/qr")
    assert fits_the_screen(page)
    card = page.locator(".qr-card .qr").first
    shot = zxingcpp.read_barcodes(Image.open(io.BytesIO(card.screenshot())))
    assert [r.text for r in shot] == [card.get_attribute("data-url")]
    with live_server.factory() as s:
        rows = s.execute(
            select(Person.full_name, Visit.source, Visit.end_rule)
            .join(Person, Person.id == Visit.person_id)
            .where(Visit.venue_id == venue.id)
            .order_by(Visit.id)
        ).all()
    assert sorted(rows) == [
        ("Triệu Thị Dân", "citizen_scan", None),
        ("Triệu Văn Bé", "citizen_scan", "explicit"),
    ]


def test_staff_record_people_with_the_scanner_page(live_server: LiveServer, page) -> None:  # type: ignore[no-untyped-def]
    venue = a_venue(live_server, offset=1)
    now = SystemClock().now()
    with live_server.factory() as s:
        new_staff(s, venue, "gac.cong", "Nông Văn Gác")
        guardian = create_user(s, SYSTEM, now=now, full_name="Bế Thị Mẹ", phone="0912777001",
                               role=Role.CITIZEN, check=False)  # fmt: skip
        actor = actor_of(s, guardian)
        ensure_self(s, actor, guardian, now=now)
        child = add_dependant(
            s, actor, guardian, PersonDraft(full_name="Bế Văn Con", birth_year=2014), now=now
        )
        scanned_text = qr_url("http://any.host", token_for(s, actor, child, now=now))
        s.commit()

    sign_in_official(live_server, page, "gac.cong")
    page.goto(live_server.url + "/staff/scanner")
    box = page.get_by_label(re.compile("^Mã quét được"))
    # A keyboard-wedge scanner types what it read, then Enter.
    box.press_sequentially(scanned_text, delay=0)
    box.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Bế Văn Con (2014)")
    chip = "004190012345|085999999|Nông Thị Lan|15031990|Nữ|Tổ 5, Sông Hiến|20042021"
    box = page.get_by_label(re.compile("^Mã quét được"))
    box.press_sequentially(chip, delay=0)
    box.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Nông Thị Lan (1990)")
    # A typed ID number of someone already known.
    box = page.get_by_label(re.compile("^Mã quét được"))
    box.fill("004190012345")
    box.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("đã có mặt, lượt được nối dài")
    # Khai hộ: someone unknown, by ID number and name.
    box = page.get_by_label(re.compile("^Mã quét được"))
    box.fill("085123789")
    box.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Chưa có người mang số giấy tờ")
    walk = page.locator("form[action='/staff/walk-in']")
    walk.get_by_label("Họ và tên").fill("Ông Lục Văn Già")
    walk.get_by_label("Loại giấy tờ").select_option("cmnd")
    assert walk.get_by_label("Số giấy tờ").input_value() == "085123789"
    walk.get_by_role("button", name="Khai hộ và ghi nhận").click()
    expect(page.get_by_role("status")).to_contain_text("Ông Lục Văn Già")
    expect(page.locator(".occupancy").first).to_have_text("3")
    screenshot(page, "staff-scanner")
    # The phone camera path: the personal QR opens a one-tap page for staff.
    page.goto(live_server.url + urlparse(scanned_text).path)
    assert page.get_by_role("heading", name="Bế Văn Con").is_visible()
    page.get_by_role("button", name=f"Ghi nhận vào {venue.name}").click()
    assert page.get_by_role("status").is_visible()
    with live_server.factory() as s:
        sources = sorted(s.scalars(select(Visit.source).where(Visit.venue_id == venue.id)))
        assert s.scalar(select(User).where(User.username == "gac.cong")) is not None
    assert sources == ["hardware_scanner", "hardware_scanner", "khai_ho"]


def test_the_scanner_page_keeps_scans_while_offline_and_sends_them_later(
    live_server: LiveServer, page
) -> None:  # type: ignore[no-untyped-def]
    """Offline, scans are kept on the phone with their own time; back online they are sent
    and recorded at that time; a refused one is reported; a scan whose answer was lost on the
    way (it did reach the server) is sent again and still recorded once."""
    venue = a_venue(live_server, offset=2)
    now = SystemClock().now()
    with live_server.factory() as s:
        new_staff(s, venue, "cong.mat.mang", "Hoàng Văn Cổng")
        codes = []
        for phone, name in (("0912777101", "Lý Thị Một"), ("0912777102", "Lý Văn Hai"),
                            ("0912777103", "Lý Thị Ba")):  # fmt: skip
            user = create_user(s, SYSTEM, now=now, full_name=name, phone=phone,
                               role=Role.CITIZEN, check=False)  # fmt: skip
            actor = actor_of(s, user)
            person = ensure_self(s, actor, user, now=now)
            token = token_for(s, actor, person, now=now)
            codes.append((person.id, qr_url("http://any.host", token)))
        s.commit()

    def visits_of(person_id: int) -> list[Visit]:
        with live_server.factory() as s:
            return list(
                s.scalars(
                    select(Visit).where(Visit.venue_id == venue.id, Visit.person_id == person_id)
                )
            )

    sign_in_official(live_server, page, "cong.mat.mang")
    page.goto(f"{live_server.url}/staff/scanner?venue={venue.id}")
    queue = page.locator("#offline-queue")
    box = page.get_by_label(re.compile("^Mã quét được"))

    page.context.set_offline(True)
    for text in (codes[0][1], codes[0][1][:-6] + "AAAAAA"):  # a good code, and a forged one
        box.fill(text)
        box.press("Enter")
    expect(queue).to_contain_text("Mất mạng")
    expect(queue).to_contain_text("Đang chờ gửi: 2 lượt.")
    assert fits_the_screen(page)
    screenshot(page, "scanner-offline")
    page.wait_for_timeout(1500)
    assert visits_of(codes[0][0]) == []
    page.context.set_offline(False)
    expect(queue).to_contain_text("Đã gửi 1 lượt quét lúc mất mạng.", timeout=15_000)
    expect(page.locator("#offline-failed")).to_contain_text("Không ghi được 1 lượt")
    [kept] = visits_of(codes[0][0])
    assert kept.received_at - kept.checked_in_at >= timedelta(seconds=1)  # its own time
    expect(page.locator(".occupancy").first).to_have_text("1")

    # The post reaches the server, but its answer is lost: the page keeps the scan and sends
    # it again a few seconds later, and the server knows it by its id.
    def lose_the_answer(route) -> None:  # type: ignore[no-untyped-def]
        route.fetch()
        route.abort()

    page.route("**/staff/scanner", lose_the_answer)
    box = page.get_by_label(re.compile("^Mã quét được"))
    box.fill(codes[1][1])
    box.press("Enter")
    expect(queue).to_contain_text("Đang chờ gửi: 1 lượt.")
    page.unroute("**/staff/scanner")
    expect(queue).to_contain_text("Đã gửi 1 lượt quét lúc mất mạng.", timeout=15_000)
    assert len(visits_of(codes[1][0])) == 1
    expect(page.locator(".occupancy").first).to_have_text("2")
    # And online as usual, the page answers in place.
    box = page.get_by_label(re.compile("^Mã quét được"))
    box.fill(codes[2][1])
    box.press("Enter")
    expect(page.get_by_role("status").filter(has_text="Lý Thị Ba")).to_contain_text(
        "đã ghi nhận vào"
    )
    assert len(visits_of(codes[2][0])) == 1
