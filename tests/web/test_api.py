"""The JSON API over HTTP: one error shape, bad input refused, scoping, CSRF, tokens, audit."""

from __future__ import annotations

import gc
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from phongdich.auth.roles import Role
from phongdich.config import Settings
from phongdich.models import ApiToken, AreaSetting, AuditEntry, SmsMessage, User
from phongdich.web.app import create_app
from tests.factories import (
    HOA_AN,
    HOANG_TUNG,
    PROVINCE,
    SONG_HIEN,
    TP_CAO_BANG,
    official,
    sign_in,
    venue_user,
)


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]  # a Vietnamese sentence for people
    return body["error"]


def setting_url(area: tuple[str, str]) -> str:
    return f"/api/v1/areas/2021/{area[0]}/{area[1]}/settings"


def test_district_official_is_refused_outside_their_district(
    client: TestClient, db: Session
) -> None:
    user = official(db, Role.DISTRICT_OFFICIAL, TP_CAO_BANG)
    csrf = sign_in(client, user)
    headers = {"X-CSRF-Token": csrf}
    assert client.get(setting_url(SONG_HIEN)).status_code == 200
    r = client.put(
        setting_url(SONG_HIEN) + "/venue_auto_approve", json={"value": "true"}, headers=headers
    )
    assert r.status_code == 200 and r.json()["settings"]["venue_auto_approve"] == "true"

    for area in (HOA_AN, HOANG_TUNG, PROVINCE):
        assert_error(client.get(setting_url(area)), 403, "forbidden")
        r = client.put(
            setting_url(area) + "/venue_auto_approve", json={"value": "true"}, headers=headers
        )
        assert_error(r, 403, "forbidden")
    # Nothing was written for the refused areas: only the one allowed change exists.
    assert db.scalar(select(func.count()).select_from(AreaSetting)) == 1

    # Account lists are scoped too: the Hòa An official is not visible.
    other = official(db, Role.DISTRICT_OFFICIAL, HOA_AN, name="Người huyện khác")
    names = [u["full_name"] for u in client.get("/api/v1/users").json()]
    assert user.full_name in names and other.full_name not in names
    assert_error(client.get(f"/api/v1/users/{other.id}"), 404, "user.not_found")


def test_denials_share_one_shape(client: TestClient, db: Session) -> None:
    assert_error(client.get("/api/v1/users"), 401, "unauthenticated")
    assert_error(client.get("/api/v1/audit"), 401, "unauthenticated")
    staff = venue_user(db, Role.VENUE_STAFF, venue_id=1)
    sign_in(client, staff)
    assert_error(client.get("/api/v1/audit"), 403, "forbidden")
    assert_error(client.get("/api/v1/users"), 403, "forbidden")
    assert_error(client.get(setting_url(SONG_HIEN)), 403, "forbidden")
    assert_error(client.get("/api/v1/sms/outbox"), 403, "forbidden")


def test_error_messages_follow_the_chosen_language(client: TestClient, db: Session) -> None:
    sign_in(client, official(db, Role.DISTRICT_OFFICIAL, TP_CAO_BANG))
    vi = assert_error(client.get("/api/v1/venues/999999"), 404, "venue.not_found")
    en = assert_error(client.get("/api/v1/venues/999999?lang=en"), 404, "venue.not_found")
    assert vi["message"] == "Không tìm thấy địa điểm."
    assert en["message"] != vi["message"] and "venue" in en["message"].lower()


def test_cookie_callers_must_send_the_csrf_token(client: TestClient, db: Session) -> None:
    user = official(db, Role.COMMUNE_OFFICIAL, SONG_HIEN)
    sign_in(client, user)
    url = setting_url(SONG_HIEN) + "/venue_auto_approve"
    assert_error(client.put(url, json={"value": "true"}), 403, "csrf.invalid")
    assert_error(
        client.put(url, json={"value": "true"}, headers={"X-CSRF-Token": "x"}), 403, "csrf.invalid"
    )
    assert db.scalar(select(func.count()).select_from(AreaSetting)) == 0


@pytest.mark.parametrize(
    ("url", "status", "code"),
    [
        ("/api/v1/areas/2021/commune/99999", 404, "area.unknown"),
        ("/api/v1/areas/2021/district/999", 404, "area.unknown"),
        ("/api/v1/areas?q=", 422, "request.invalid"),
        ("/api/v1/areas?q=hoa&scheme=1999", 422, "request.invalid"),
        ("/api/v1/khong-co", 404, "not_found"),
    ],
)
def test_bad_reads_get_clear_errors(client: TestClient, url: str, status: int, code: str) -> None:
    assert_error(client.get(url), status, code)


def test_bad_writes_get_clear_errors_and_change_nothing(client: TestClient, db: Session) -> None:
    before = db.scalar(select(func.count()).select_from(SmsMessage))
    assert_error(client.post("/api/v1/auth/code", json={"phone": "12345"}), 400, "phone.invalid")
    assert_error(
        client.post(
            "/api/v1/auth/code",
            content="phone=0912345678",
            headers={"content-type": "application/x-www-form-urlencoded"},
        ),
        415,
        "request.unsupported_media_type",
    )
    assert_error(
        client.post(
            "/api/v1/auth/code", content="{not json", headers={"content-type": "application/json"}
        ),
        422,
        "request.invalid",
    )
    huge = '{"phone": "' + "9" * 2_000_000 + '"}'
    assert_error(
        client.post(
            "/api/v1/auth/code", content=huge, headers={"content-type": "application/json"}
        ),
        413,
        "request.too_large",
    )
    assert_error(client.post("/api/v1/auth/code", json={"phone": "0" * 40}), 422, "request.invalid")
    assert db.scalar(select(func.count()).select_from(SmsMessage)) == before

    admin = official(db, Role.ADMIN, PROVINCE)
    csrf = sign_in(client, admin)
    users_before = db.scalar(select(func.count()).select_from(User))
    r = client.post(
        "/api/v1/users",
        headers={"X-CSRF-Token": csrf},
        json={
            "full_name": "Cán bộ mới",
            "username": "canbo.moi",
            "password": "mat-khau-dai-du",
            "role": "commune_official",
            "area": {"scheme": "2021", "level": "commune", "code": "99999"},
        },
    )
    assert_error(r, 404, "area.unknown")
    r = client.post(
        "/api/v1/users",
        headers={"X-CSRF-Token": csrf},
        json={"full_name": "Cán bộ mới", "phone": "01234", "role": "citizen"},
    )
    assert_error(r, 400, "phone.invalid")
    r = client.post(
        "/api/v1/users",
        headers={"X-CSRF-Token": csrf},
        json={
            "full_name": "Cán bộ mới",
            "username": "canbo.moi",
            "password": "mat-khau-dai-du",
            "role": "commune_official",
            "area": {"scheme": "2021", "level": "district", "code": "040"},
        },
    )
    assert_error(r, 400, "role.area_level_invalid")
    assert db.scalar(select(func.count()).select_from(User)) == users_before


def test_phone_code_lockout_over_http_is_remembered(client: TestClient, db: Session) -> None:
    assert client.post("/api/v1/auth/code", json={"phone": "0912 345 678"}).status_code == 200
    body = db.scalars(select(SmsMessage.body).order_by(SmsMessage.id.desc())).first()
    good = re.search(r"\b(\d{6})\b", body or "").group(1)  # type: ignore[union-attr]
    wrong = "000000" if good != "000000" else "111111"
    for _ in range(5):
        r = client.post("/api/v1/auth/code/verify", json={"phone": "0912345678", "code": wrong})
        assert_error(r, 401, "auth.code_invalid")
    r = client.post("/api/v1/auth/code/verify", json={"phone": "0912345678", "code": good})
    error = assert_error(r, 429, "auth.locked")
    assert error["details"]["retry_after_seconds"] > 0


def test_admin_issues_and_revokes_a_scanner_token(client: TestClient, db: Session) -> None:
    admin = official(db, Role.ADMIN, PROVINCE)
    csrf = sign_in(client, admin)
    r = client.post(
        "/api/v1/tokens",
        headers={"X-CSRF-Token": csrf},
        json={
            "name": "Máy quét chốt Quảng Hòa",
            "role": "checkpoint_officer",
            "area": {"scheme": "2021", "level": "district", "code": "049"},
        },
    )
    assert r.status_code == 201, r.text
    secret = r.json()["token"]
    stored = db.scalar(select(ApiToken).where(ApiToken.id == r.json()["id"]))
    assert stored is not None and secret not in (stored.token_hash, stored.prefix)

    device = TestClient(client.app)
    device.headers["Authorization"] = f"Bearer {secret}"
    assert_error(device.get("/api/v1/users"), 403, "forbidden")  # a scanner may not list accounts
    r = client.delete(f"/api/v1/tokens/{stored.id}", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json()["revoked_at"]
    assert_error(device.get("/api/v1/areas/2021/province/04"), 401, "auth.token_invalid")
    assert_error(
        TestClient(client.app, headers={"Authorization": "Bearer pd_forged_x"}).get(
            "/api/v1/areas?q=a"
        ),
        401,
        "auth.token_invalid",
    )


def test_every_change_is_audited(client: TestClient, db: Session) -> None:
    admin = official(db, Role.ADMIN, PROVINCE)
    csrf = sign_in(client, admin)
    client.put(
        setting_url(SONG_HIEN) + "/venue_auto_approve",
        json={"value": "true"},
        headers={"X-CSRF-Token": csrf},
    )
    entries = client.get("/api/v1/audit").json()
    actions = [e["action"] for e in entries]
    assert "area.setting.change" in actions and "auth.sign_in" in actions
    change = next(e for e in entries if e["action"] == "area.setting.change")
    assert change["actor_label"].startswith(admin.full_name)
    assert change["details"] == {"key": "venue_auto_approve", "old": None, "new": "true"}
    assert change["ip"] == "testclient"
    assert (
        db.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "area.setting.change")
        )
        == 1
    )


def test_openapi_docs_are_served(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/areas" in spec["paths"]
    assert client.get("/api/docs").status_code == 200


def test_serving_starts_with_start_up_objects_out_of_the_collectors_reach(
    settings: Settings, factory: sessionmaker[Session]
) -> None:
    gc.unfreeze()
    app = create_app(settings.model_copy(update={"freeze_gc_at_start": True}),
                     session_factory=factory, run_jobs=False)  # fmt: skip
    try:
        with TestClient(app):
            assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()  # the rest of the suite collects as usual
