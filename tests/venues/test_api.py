"""The venues API: who may do what, the standard error shape, CSRF, duplicates, uploads."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from phongdich.auth.roles import Role
from phongdich.models import SmsMessage, Venue
from tests.factories import HOA_AN, PROVINCE, SONG_HIEN, TP_CAO_BANG, official, sign_in, venue_user
from tests.venues.factories import new_phone

SONG_HIEN_KEY = {"scheme": "2021", "level": "commune", "code": SONG_HIEN[1]}


def sign_in_by_phone(client: TestClient, db: Session, phone: str) -> str:
    """Sign in as a citizen with a phone code read from the SMS outbox; returns the CSRF token."""
    assert client.post("/api/v1/auth/code", json={"phone": phone}).status_code == 200
    body = db.scalars(select(SmsMessage.body).order_by(SmsMessage.id.desc())).first()
    match = re.search(r"\b(\d{6})\b", body or "")
    assert match, body
    r = client.post("/api/v1/auth/code/verify", json={"phone": phone, "code": match.group(1)})
    assert r.status_code == 200, r.text
    return r.headers["x-csrf-token"]


def venue_body(name: str = "Quán phở Hương", **extra: object) -> dict[str, object]:
    return {
        "name": name,
        "type_code": "restaurant",
        "street_address": "Số 5, đường Vườn Cam",
        "commune": SONG_HIEN_KEY,
        **extra,
    }


def assert_error(r, status: int, code: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code and error["message"]
    return error  # type: ignore[no-any-return]


def register(client: TestClient, db: Session, name: str = "Quán phở Hương") -> dict:  # type: ignore[type-arg]
    csrf = sign_in_by_phone(client, db, new_phone())
    r = client.post(
        "/api/v1/venues/register", json=venue_body(name), headers={"x-csrf-token": csrf}
    )
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def test_an_owner_registers_after_a_phone_code_and_needs_csrf(
    client: TestClient, db: Session
) -> None:
    csrf = sign_in_by_phone(client, db, new_phone())
    no_header = client.post("/api/v1/venues/register", json=venue_body())
    assert_error(no_header, 403, "csrf.invalid")
    r = client.post("/api/v1/venues/register", json=venue_body(), headers={"x-csrf-token": csrf})
    assert r.status_code == 201, r.text
    venue = r.json()
    assert venue["status"] == "pending"
    assert venue["type"]["code"] == "restaurant"
    assert "Thành phố Cao Bằng" in venue["commune"]["full_name"]
    mine = client.get("/api/v1/venues").json()
    assert [v["id"] for v in mine["items"]] == [venue["id"]] and mine["total"] == 1
    # A citizen may not create venues as an official does.
    assert_error(
        client.post("/api/v1/venues", json=venue_body("Khác"), headers={"x-csrf-token": csrf}),
        403,
        "forbidden",
    )


def test_an_official_of_another_district_gets_403(client: TestClient, db: Session) -> None:
    venue = register(client, db)
    client.cookies.clear()
    csrf = sign_in(client, official(db, Role.DISTRICT_OFFICIAL, HOA_AN))
    assert_error(client.get(f"/api/v1/venues/{venue['id']}"), 403, "forbidden")
    assert_error(
        client.post(f"/api/v1/venues/{venue['id']}/approve", headers={"x-csrf-token": csrf}),
        403,
        "forbidden",
    )
    assert_error(
        client.patch(
            f"/api/v1/venues/{venue['id']}", json={"name": "Quán"}, headers={"x-csrf-token": csrf}
        ),
        403,
        "forbidden",
    )
    assert client.get("/api/v1/venues").json()["total"] == 0
    assert_error(client.get("/api/v1/venues/999999"), 404, "venue.not_found")

    client.cookies.clear()
    csrf = sign_in(client, official(db, Role.COMMUNE_OFFICIAL, SONG_HIEN))
    pending = client.get("/api/v1/venues", params={"status": "pending"}).json()
    assert [v["id"] for v in pending["items"]] == [venue["id"]]
    r = client.post(f"/api/v1/venues/{venue['id']}/approve", headers={"x-csrf-token": csrf})
    assert r.status_code == 200 and r.json()["status"] == "approved"
    # The commune edits what it is allowed to; a bad value is a Vietnamese error with a code.
    r = client.patch(
        f"/api/v1/venues/{venue['id']}",
        json={"name": "  Quán   Phở Hương 2 "},
        headers={"x-csrf-token": csrf},
    )
    assert r.status_code == 200 and r.json()["name"] == "Quán Phở Hương 2"
    assert_error(
        client.patch(
            f"/api/v1/venues/{venue['id']}", json={"name": "x"}, headers={"x-csrf-token": csrf}
        ),
        400,
        "venue.name_invalid",
    )
    assert_error(
        client.post(
            f"/api/v1/venues/{venue['id']}/reject",
            json={"reason": "muộn"},
            headers={"x-csrf-token": csrf},
        ),
        409,
        "venue.status_invalid",
    )


def test_staff_read_but_cannot_manage(client: TestClient, db: Session) -> None:
    venue = register(client, db)
    owner_csrf = client.get("/api/v1/auth/me").headers["x-csrf-token"]
    phone = new_phone()
    r = client.post(
        f"/api/v1/venues/{venue['id']}/staff",
        json={"phone": phone, "full_name": "Bảo vệ"},
        headers={"x-csrf-token": owner_csrf},
    )
    assert r.status_code == 201, r.text
    assert {m["role"] for m in r.json()} == {"venue_owner", "venue_staff"}
    r = client.post(
        f"/api/v1/venues/{venue['id']}/locations",
        json={"name": "Cổng sau", "kind": "gate"},
        headers={"x-csrf-token": owner_csrf},
    )
    assert r.status_code == 201 and len(r.json()["short_code"]) == 8

    client.cookies.clear()
    csrf = sign_in(client, venue_user(db, Role.VENUE_STAFF, venue["id"]))
    assert client.get(f"/api/v1/venues/{venue['id']}").status_code == 200
    assert [
        loc["name"] for loc in client.get(f"/api/v1/venues/{venue['id']}/locations").json()
    ] == ["Cổng sau"]
    headers = {"x-csrf-token": csrf}
    for method, path, body in [
        ("post", "close", {"reason": ""}),
        ("post", "staff", {"phone": new_phone()}),
        ("post", "locations", {"name": "Tầng 2", "kind": "floor"}),
        ("post", "approve", None),
    ]:
        r = client.request(
            method, f"/api/v1/venues/{venue['id']}/{path}", json=body, headers=headers
        )
        assert_error(r, 403, "forbidden")


def test_likely_duplicates_are_warned_then_confirmed(client: TestClient, db: Session) -> None:
    first = register(client, db, "Chợ Sông Hiến")
    csrf = sign_in_by_phone(client, db, new_phone())
    headers = {"x-csrf-token": csrf}
    r = client.post("/api/v1/venues/register", json=venue_body("cho song hien"), headers=headers)
    error = assert_error(r, 409, "venue.possible_duplicate")
    assert error["details"]["duplicates"][0]["venue_id"] == first["id"]
    r = client.post(
        "/api/v1/venues/register",
        json=venue_body("cho song hien", confirm_duplicate=True),
        headers=headers,
    )
    assert r.status_code == 201


def test_import_by_upload_and_json_only_elsewhere(client: TestClient, db: Session) -> None:
    csrf = sign_in(client, official(db, Role.DISTRICT_OFFICIAL, TP_CAO_BANG))
    headers = {"x-csrf-token": csrf}
    good = (
        "Tên địa điểm,Loại địa điểm,Địa chỉ,Mã xã,Số điện thoại\n"
        "Chợ Sông Hiến,market,Tổ 5,01267,\n"
        "Trạm y tế phường,hospital,Tổ 1,01267,0912 345 678\n"
    ).encode()
    files = {"file": ("dia-diem.csv", good, "text/csv")}
    r = client.post("/api/v1/venues/import/preview", files=files, headers=headers)
    assert r.status_code == 200, r.text
    preview = r.json()
    assert preview["accepted"] and preview["row_count"] == 2 and not preview["errors"]
    assert db.scalar(select(Venue.id).where(Venue.name == "Chợ Sông Hiến")) is None
    # Cookie callers need the CSRF header for uploads too.
    assert_error(client.post("/api/v1/venues/import", files=files), 403, "csrf.invalid")
    r = client.post("/api/v1/venues/import", files=files, headers=headers)
    assert r.status_code == 201 and r.json()["created"] == 2

    bad = good + "Quán lỗi,rocket,Tổ 2,01267,\n".encode()
    r = client.post(
        "/api/v1/venues/import", files={"file": ("x.csv", bad, "text/csv")}, headers=headers
    )
    error = assert_error(r, 422, "import.rejected")
    assert error["details"]["errors"][0]["row"] == 4
    r = client.post(
        "/api/v1/venues/import/preview",
        files={"file": ("x.xlsx", b"PK\x03\x04garbage", "application/octet-stream")},
        headers=headers,
    )
    assert_error(r, 422, "import.file_malformed")
    # Other endpoints still take JSON only.
    r = client.post("/api/v1/venues", data={"name": "x"}, headers=headers)
    assert_error(r, 415, "request.unsupported_media_type")
    r = client.post("/api/v1/venues", files=files, headers=headers)
    assert_error(r, 415, "request.unsupported_media_type")


def test_list_filters_search_without_accents_and_pages(client: TestClient, db: Session) -> None:
    csrf = sign_in(client, official(db, Role.DISTRICT_OFFICIAL, TP_CAO_BANG))
    headers = {"x-csrf-token": csrf}
    for name in ("Nhà hàng Hương Sen", "Quán Bún Bò", "Trường Tiểu học Hợp Giang"):
        assert (
            client.post("/api/v1/venues", json=venue_body(name), headers=headers).status_code == 201
        )
    found = client.get("/api/v1/venues", params={"q": "huong sen"}).json()
    assert [v["name"] for v in found["items"]] == ["Nhà hàng Hương Sen"]
    page = client.get("/api/v1/venues", params={"per_page": 2, "page": 2}).json()
    assert page["total"] == 3 and len(page["items"]) == 1
    commune = client.get(
        "/api/v1/venues", params={"area_level": "commune", "area_code": SONG_HIEN[1]}
    ).json()
    assert commune["total"] == 3
    assert_error(client.get("/api/v1/venues", params={"status": "bogus"}), 422, "request.invalid")


def test_types_are_listed_and_admins_add_more(client: TestClient, db: Session) -> None:
    assert len(client.get("/api/v1/venues/types").json()) >= 12
    csrf = sign_in(client, official(db, Role.DISTRICT_OFFICIAL, TP_CAO_BANG))
    body = {"code": "pagoda", "name": "Chùa", "name_en": "Pagoda", "default_stay_minutes": 60}
    assert_error(
        client.post("/api/v1/venues/types", json=body, headers={"x-csrf-token": csrf}),
        403,
        "forbidden",
    )
    client.cookies.clear()
    csrf = sign_in(client, official(db, Role.ADMIN, PROVINCE))
    r = client.post("/api/v1/venues/types", json=body, headers={"x-csrf-token": csrf})
    assert r.status_code == 201 and r.json()["is_builtin"] is False
    assert "pagoda" in {t["code"] for t in client.get("/api/v1/venues/types").json()}
