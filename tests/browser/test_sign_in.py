"""In headless Chromium: sign in as an official and as a citizen, on a 360-px phone screen."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from phongdich.demo.service import DEMO_PASSWORD
from phongdich.models import SmsMessage
from tests.browser.conftest import LiveServer, fits_the_screen, screenshot

pytestmark = pytest.mark.browser


def test_official_signs_in_and_reaches_the_home_page(live_server: LiveServer, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Đăng nhập").first.click()
    page.get_by_label("Tên đăng nhập").fill("huyen.tpcaobang")
    page.get_by_label("Mật khẩu").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(live_server.url + "/")
    assert page.get_by_role("heading", name="Xin chào, Nông Văn Thành").is_visible()
    assert page.get_by_text("Cán bộ huyện").first.is_visible()
    assert fits_the_screen(page)
    screenshot(page, "home-district-official")


def test_citizen_signs_in_with_a_code_from_the_outbox(live_server: LiveServer, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server.url + "/login")
    assert fits_the_screen(page)
    page.get_by_label("Số điện thoại").fill("0912 000 001")
    page.get_by_role("button", name="Nhận mã qua SMS").click()
    page.get_by_label("Mã gồm 6 chữ số").wait_for()
    with live_server.factory() as s:
        body = s.scalars(
            select(SmsMessage.body)
            .where(SmsMessage.phone == "+84912000001")
            .order_by(SmsMessage.id.desc())
        ).first()
    code = re.search(r"\b(\d{6})\b", body or "")
    assert code, body
    page.get_by_label("Mã gồm 6 chữ số").fill("000000" if code.group(1) != "000000" else "111111")
    page.get_by_role("button", name="Xác nhận").click()
    assert page.get_by_role("alert").inner_text().startswith("Mã không đúng")
    page.get_by_label("Mã gồm 6 chữ số").fill(code.group(1))
    page.get_by_role("button", name="Xác nhận").click()
    page.wait_for_url(live_server.url + "/")
    assert page.get_by_role("heading", name="Xin chào, Triệu Thị Dân").is_visible()
    assert fits_the_screen(page)
    screenshot(page, "home-citizen")
