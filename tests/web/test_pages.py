"""Server-rendered pages: sign-in forms with CSRF, role home pages, English, friendly errors."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from phongdich.auth.roles import Role
from phongdich.models import SmsMessage
from tests.factories import PASSWORD, PROVINCE, TP_CAO_BANG, official


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "form has no CSRF token"
    return match.group(1)


def test_official_signs_in_with_password_and_sees_their_home(
    client: TestClient, db: Session
) -> None:
    user = official(db, Role.DISTRICT_OFFICIAL, TP_CAO_BANG, name="Nông Văn Thành")
    page = client.get("/login")
    assert page.status_code == 200 and "Đăng nhập" in page.text
    r = client.post(
        "/login/password",
        data={"username": user.username, "password": PASSWORD, "csrf_token": csrf_from(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/"
    home = client.get("/")
    assert "Xin chào, Nông Văn Thành" in home.text
    assert "Cán bộ huyện" in home.text and "Thành phố Cao Bằng" in home.text


def test_wrong_password_shows_a_vietnamese_message(client: TestClient, db: Session) -> None:
    user = official(db, Role.COMMUNE_OFFICIAL, ("commune", "01267"))
    page = client.get("/login")
    r = client.post(
        "/login/password",
        data={"username": user.username, "password": "sai", "csrf_token": csrf_from(page.text)},
    )
    assert r.status_code == 401
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in r.text


def test_forms_without_the_csrf_token_are_refused(client: TestClient, db: Session) -> None:
    user = official(db, Role.COMMUNE_OFFICIAL, ("commune", "01267"))
    client.get("/login")
    r = client.post("/login/password", data={"username": user.username, "password": PASSWORD})
    assert r.status_code == 403 and "tải lại trang" in r.text
    assert "Xin chào" not in client.get("/").text


def test_citizen_signs_in_with_a_phone_code(client: TestClient, db: Session) -> None:
    page = client.get("/login")
    r = client.post(
        "/login/code", data={"phone": "0912 345 678", "csrf_token": csrf_from(page.text)}
    )
    assert r.status_code == 200 and "0912 345 678" in r.text
    body = db.scalars(select(SmsMessage.body).order_by(SmsMessage.id.desc())).first() or ""
    code = re.search(r"\b(\d{6})\b", body).group(1)  # type: ignore[union-attr]
    r = client.post(
        "/login/code/verify",
        data={"phone": "+84912345678", "code": code, "csrf_token": csrf_from(r.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    home = client.get("/")
    assert "Người dân" in home.text and "Mã QR cá nhân" in home.text


def test_english_switch_translates_the_page(client: TestClient) -> None:
    r = client.get("/lang/en?next=/login", follow_redirects=True)
    assert r.status_code == 200
    assert "Get a code by SMS" in r.text and "Nhận mã qua SMS" not in r.text
    assert (
        client.get("/lang/vi?next=//evil.example", follow_redirects=False).headers["location"]
        == "/"
    )
    assert "Nhận mã qua SMS" in client.get("/login").text


def test_people_get_friendly_error_pages(client: TestClient, db: Session) -> None:
    r = client.get("/khong-co-trang-nay")
    assert r.status_code == 404 and "Không tìm thấy trang" in r.text and "<html" in r.text
    r = client.get("/admin/audit", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    user = official(db, Role.DISTRICT_OFFICIAL, TP_CAO_BANG)
    client.post("/api/v1/auth/password", json={"username": user.username, "password": PASSWORD})
    r = client.get("/admin/audit")
    assert r.status_code == 403 and "Bạn không có quyền" in r.text


def test_admin_pages_show_the_log_and_the_outbox(client: TestClient, db: Session) -> None:
    client.post("/api/v1/auth/code", json={"phone": "0987 654 321"})
    admin = official(db, Role.ADMIN, PROVINCE)
    client.post("/api/v1/auth/password", json={"username": admin.username, "password": PASSWORD})
    outbox = client.get("/admin/outbox")
    assert outbox.status_code == 200 and "0987 654 321" in outbox.text
    audit = client.get("/admin/audit")
    assert "auth.sign_in" in audit.text and "15/11/2021 09:00" in audit.text  # Vietnam time


def test_area_search_is_accent_insensitive(client: TestClient) -> None:
    r = client.get("/areas", params={"q": "hoa an", "scheme": "2021"})
    assert "Huyện Hoà An, Tỉnh Cao Bằng" in r.text
    r = client.get("/areas", params={"q": "HOANG TUNG"})
    assert "Xã Hoàng Tung, Huyện Hoà An, Tỉnh Cao Bằng" in r.text  # a commune shows its parents
    r = client.get("/api/v1/areas", params={"q": "song hien"})
    names = [a["full_name"] for a in r.json()]
    assert "Phường Sông Hiến, Thành phố Cao Bằng, Tỉnh Cao Bằng" in names


def test_pages_name_an_icon_that_is_served(client: TestClient) -> None:
    """Without one, every browser asks for /favicon.ico and logs a 404 on every first visit."""
    page = client.get("/login").text
    icon = re.search(r'<link rel="icon" href="([^"]+)"', page)
    assert icon is not None
    served = client.get(icon.group(1))
    assert served.status_code == 200 and served.headers["content-type"].startswith("image/svg")


def test_counts_are_written_as_the_reader_writes_them() -> None:
    from phongdich.web.templating import env

    shown = env.from_string("{{ 5677|n }} · {{ 7.4|n }}% · {{ none|n }}")
    assert shown.render(locale="vi") == "5.677 · 7,4% · "
    assert shown.render(locale="en") == "5,677 · 7.4% · "
