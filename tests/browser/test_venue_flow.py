"""In headless Chromium: an owner registers a venue, an official of its commune approves it, the
owner downloads the poster and its QR decodes to the venue's page; an official of another
district cannot see the venue."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pypdfium2 as pdfium
import pytest
import zxingcpp
from sqlalchemy import select

from phongdich.demo.service import DEMO_PASSWORD
from phongdich.models import SmsMessage, Venue
from tests.browser.conftest import LiveServer, fits_the_screen, screenshot

pytestmark = pytest.mark.browser
OWNER_PHONE = "0987 111 222"
VENUE_NAME = "Quán phở Thử Nghiệm Sông Hiến"


def sign_in_official(live: LiveServer, page, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(live.url + "/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(live.url + "/")


def sign_in_by_code(live: LiveServer, page, phone: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(live.url + "/login")
    page.get_by_label("Số điện thoại").fill(phone)
    page.get_by_role("button", name="Nhận mã qua SMS").click()
    page.get_by_label("Mã gồm 6 chữ số").wait_for()
    e164 = "+84" + phone.replace(" ", "")[1:]
    with live.factory() as s:
        body = s.scalars(
            select(SmsMessage.body).where(SmsMessage.phone == e164).order_by(SmsMessage.id.desc())
        ).first()
    code = re.search(r"\b(\d{6})\b", body or "")
    assert code, body
    page.get_by_label("Mã gồm 6 chữ số").fill(code.group(1))
    page.get_by_role("button", name="Xác nhận").click()
    page.wait_for_url(live.url + "/")


def decode_first_page(pdf: bytes) -> str:
    doc = pdfium.PdfDocument(pdf)
    try:
        image = doc[0].render(scale=2.0).to_pil()
    finally:
        doc.close()
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 1
    return found[0].text


def test_register_approve_download_poster_and_stay_private(
    live_server: LiveServer, browser
) -> None:  # type: ignore[no-untyped-def]
    owner = browser.new_context(viewport={"width": 360, "height": 740})
    page = owner.new_page()
    sign_in_by_code(live_server, page, OWNER_PHONE)
    page.goto(live_server.url + "/venues/register")
    page.get_by_label("Tên địa điểm").fill(VENUE_NAME)
    page.get_by_label("Loại địa điểm").select_option(label="Nhà hàng, quán ăn, quán cà phê")
    page.get_by_label("Địa chỉ (số nhà, đường, thôn, xóm)").fill("Số 5, phố Vườn Cam")
    page.get_by_label("Số điện thoại liên hệ").fill(OWNER_PHONE)
    page.get_by_label("Tìm xã (gõ có dấu hoặc không dấu)").fill("song hien")
    page.get_by_role("button", name="Tìm xã").click()
    page.get_by_label(re.compile(r"Phường Sông Hiến, Thành phố Cao Bằng.*2021")).check()
    page.get_by_role("button", name="Đăng ký").click()
    page.get_by_role("heading", name=VENUE_NAME).wait_for()
    with live_server.factory() as s:
        venue = s.scalars(select(Venue).where(Venue.name == VENUE_NAME)).one()
        assert venue.status == "pending" and venue.registered_via == "self"
    venue_url = f"{live_server.url}/venues/{venue.id}"
    assert (
        page.get_by_role("link", name="Tải áp phích mã QR (PDF)").count() == 0
    )  # not before approval

    official = browser.new_context(viewport={"width": 360, "height": 740})
    o_page = official.new_page()
    sign_in_official(live_server, o_page, "xa.songhien")
    o_page.goto(live_server.url + "/venues?status=pending")
    o_page.locator("#pending").get_by_role("link", name=VENUE_NAME).click()
    o_page.get_by_role("button", name="Duyệt").click()
    o_page.get_by_role("heading", name=VENUE_NAME).wait_for()
    screenshot(o_page, "venue-approved")
    with live_server.factory() as s:
        assert s.get(Venue, venue.id).status == "approved"  # type: ignore[union-attr]

    page.goto(venue_url)
    # The owner was told of the approval by SMS, and corrects the address from the page.
    with live_server.factory() as s:
        told = s.scalars(
            select(SmsMessage.body).where(
                SmsMessage.purpose == "venue_decision", SmsMessage.phone == "+84987111222"
            )
        ).all()
    assert any("đã được duyệt" in body for body in told), told
    page.get_by_text("Sửa thông tin địa điểm").click()
    page.get_by_label("Địa chỉ", exact=True).fill("Số 7, phố Vườn Cam")
    page.get_by_role("button", name="Lưu thay đổi").click()
    page.get_by_text("Đã lưu.").wait_for()
    assert page.get_by_text("Số 7, phố Vườn Cam").first.is_visible()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
    screenshot(page, "venue-edited")
    # Headless Chromium shows PDFs inline, so fetch the link's target with the owner's cookies.
    href = page.get_by_role("link", name="Tải áp phích mã QR (PDF)").get_attribute("href")
    assert href == f"/venues/{venue.id}/poster.pdf"
    download = page.request.get(live_server.url + href)
    assert download.ok and download.headers["content-type"] == "application/pdf"
    pdf = download.body()
    assert pdf.startswith(b"%PDF")
    qr_text = decode_first_page(pdf)
    path = urlparse(qr_text).path
    assert path.startswith("/v/")
    page.goto(live_server.url + path)
    assert page.get_by_role("heading", name=VENUE_NAME).is_visible()
    assert page.get_by_text("chữ ký hợp lệ").is_visible()

    elsewhere = browser.new_context(viewport={"width": 360, "height": 740})
    e_page = elsewhere.new_page()
    sign_in_official(live_server, e_page, "huyen.hoaan")
    response = e_page.goto(venue_url)
    assert response is not None and response.status in (403, 404)
    e_page.goto(live_server.url + "/venues?q=" + "thu nghiem song hien")
    assert e_page.get_by_text(VENUE_NAME).count() == 0
    for ctx in (owner, official, elsewhere):
        ctx.close()


def test_demo_owner_and_staff_act_for_their_venue(live_server: LiveServer, page) -> None:  # type: ignore[no-untyped-def]
    from phongdich.auth.policy import Target, can
    from phongdich.auth.service import principal_for
    from phongdich.models import User

    with live_server.factory() as s:
        owner = s.scalars(select(User).where(User.phone == "+84912000002")).one()
        staff = s.scalars(select(User).where(User.phone == "+84912000003")).one()
        venue = s.scalars(select(Venue).where(Venue.owner_user_id == owner.id)).one()
        target = Target(object_type="venue", object_id=venue.id)
        assert can(principal_for(s, owner), "venue.staff.manage", target)
        assert can(principal_for(s, staff), "venue.scan", target)
        assert not can(principal_for(s, staff), "venue.manage", target)
    sign_in_by_code(live_server, page, "0912 000 003")
    page.goto(live_server.url + "/venues")
    assert page.get_by_role("link", name=venue.name).first.is_visible()


def test_an_owner_sets_up_a_scanner_device_from_the_phone(live_server: LiveServer, page) -> None:  # type: ignore[no-untyped-def]
    """The demo owner issues a token for a scanner device from the venue page; the page that
    shows it once fits the phone, and the device reads the venue's day with it."""
    from phongdich.models import User

    with live_server.factory() as s:
        owner = s.scalars(select(User).where(User.phone == "+84912000002")).one()
        venue = s.scalars(select(Venue).where(Venue.owner_user_id == owner.id)).one()
    sign_in_by_code(live_server, page, "0912 000 002")
    page.goto(f"{live_server.url}/venues/{venue.id}")
    page.get_by_label("Tên thiết bị").fill("Máy quét cổng sau")
    page.get_by_role("button", name="Cấp mã cho thiết bị").click()
    page.get_by_role("heading", name="Mã truy cập của thiết bị").wait_for()
    secret = page.locator("#device-secret").inner_text()
    assert re.fullmatch(r"pd_[0-9a-f]{8}_[\w-]+", secret), secret
    assert fits_the_screen(page)
    screenshot(page, "device-token")
    answer = page.request.get(
        f"{live_server.url}/api/v1/checkins/venues/{venue.id}/today",
        headers={"Authorization": f"Bearer {secret}", "Cookie": ""},
    )
    assert answer.ok and answer.json()["venue_id"] == venue.id
    page.get_by_role("link", name="Về trang địa điểm").click()
    devices = page.locator("#devices")
    assert devices.get_by_text("Máy quét cổng sau").is_visible()
    assert devices.get_by_text(secret).count() == 0  # shown once
