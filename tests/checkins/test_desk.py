"""The scan desk (raw statements) and the scan lane in front of the router: the same visits,
counters and refusals as the general path, and the general path for whatever the desk leaves."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from phongdich.audit.service import Actor
from phongdich.auth.tokens import principal_for_token
from phongdich.checkins import desk
from phongdich.checkins.counting import count_visits
from phongdich.checkins.service import HARDWARE_SCANNER, record_check_in
from phongdich.models import ApiToken, Person, Venue, VenueDailyActivity, Visit
from phongdich.people.personal_qr import issue_qr
from phongdich.venues.service import close_venue
from tests.checkins.factories import ADMIN, citizen_with_person, device_token, qr_of, venue
from tests.conftest import T0
from tests.venues.factories import actor_of
from tests.web.test_api import assert_error

# (venue: 0 = A, 1 = B; minutes before T0; client scan id): a visit, its extension, a check-in
# elsewhere that closes it, a late upload from between the two, a retry, and another extension.
SCENARIO = [
    (0, 180, "c1"),
    (0, 178, "c2"),
    (1, 120, "c3"),
    (0, 150, "c4"),
    (1, 120, "c3"),
    (1, 115, "c5"),
    (0, 30, "c6"),
]


def _visits(db: Session, person: Person, venues: list[Venue]) -> list[tuple[object, ...]]:
    index = {v.id: i for i, v in enumerate(venues)}
    rows = db.scalars(select(Visit).where(Visit.person_id == person.id).order_by(Visit.id))
    return sorted(
        (
            index[v.venue_id],
            v.source,
            v.checked_in_at,
            v.last_seen_at,
            v.checked_out_at,
            v.end_rule,
            v.default_stay_minutes,
            v.client_scan_id,
        )
        for v in rows
    )


def _counters(db: Session, venue_: Venue) -> list[tuple[object, ...]]:
    rows = db.scalars(select(VenueDailyActivity).where(VenueDailyActivity.venue_id == venue_.id))
    return sorted((r.day, r.scans, r.visitors, r.poster_checks) for r in rows)


def test_the_desk_records_what_the_general_path_records(db: Session) -> None:
    outcomes: dict[str, list[str]] = {"desk": [], "orm": []}
    recorded: dict[str, tuple[Person, list[Venue]]] = {}
    for path in ("desk", "orm"):
        places = [venue(db), venue(db)]
        tokens = [device_token(db, place) for place in places]
        _, person = citizen_with_person(db, name=f"Người {path}")
        code = qr_of(db, person)
        for which, minutes, client_id in SCENARIO:
            principal = principal_for_token(db, tokens[which][0], T0)
            assert principal is not None
            at = T0 - timedelta(minutes=minutes)
            if path == "desk":
                done = desk.scan(
                    db.connection(),
                    principal,
                    venue_id=places[which].id,
                    code=code,
                    now=T0,
                    at=at,
                    client_scan_id=client_id,
                )
                outcomes[path].append(done.outcome)
            else:
                result = record_check_in(
                    db,
                    Actor(principal),
                    person=person,
                    venue=places[which],
                    now=T0,
                    at=at,
                    source=HARDWARE_SCANNER,
                    device_token_id=principal.token_id,
                    client_scan_id=client_id,
                )
                db.flush()
                outcomes[path].append(result.outcome)
        db.expire_all()
        recorded[path] = (person, places)
    assert outcomes["desk"] == outcomes["orm"]
    assert outcomes["desk"] == [
        "created",
        "extended",
        "created",
        "created",
        "duplicate",
        "extended",
        "created",
    ]
    desk_visits = _visits(db, *recorded["desk"])
    assert desk_visits == _visits(db, *recorded["orm"])
    assert [v[5] for v in desk_visits] == ["next_checkin", "next_checkin", None, "next_checkin"]
    # Both queued their new visits for the counters, which count them when the job runs.
    assert _counters(db, recorded["desk"][1][0]) == []
    assert count_visits(db, T0) == {"counted": 8, "gone": 0}
    for i in (0, 1):
        assert _counters(db, recorded["desk"][1][i]) == _counters(db, recorded["orm"][1][i])
    assert _counters(db, recorded["desk"][1][0])[0][1:] == (3, 1, 0)  # 3 new visits, 1 person
    gate = db.get(Venue, recorded["desk"][1][0].id)
    assert gate is not None and gate.status == "active"
    assert gate.last_scan_at == T0 - timedelta(minutes=30)


def test_the_lane_answers_and_refuses_like_the_route(client: TestClient, db: Session) -> None:
    gate = venue(db)
    secret, token_id = device_token(db, gate)
    user, me = citizen_with_person(db, name="Lục Văn Làn")
    auth = {"Authorization": f"Bearer {secret}"}
    code = qr_of(db, me)
    body = {"venue_id": gate.id, "code": code, "client_scan_id": "l-1"}
    r = client.post("/api/v1/checkins/scan", json=body, headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "created"
    # The lane answers in front of the middleware, with the same security headers.
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    token = db.get(ApiToken, token_id)
    assert token is not None
    db.refresh(token)
    assert token.last_used_at is not None
    again = client.post("/api/v1/checkins/scan", json=body, headers=auth)
    assert again.json() == {**r.json(), "outcome": "duplicate"}
    assert_error(
        client.post("/api/v1/checkins/scan", json={**body, "venue_id": 999_999}, headers=auth),
        404,
        "venue.not_found",
    )
    later = (T0 + timedelta(hours=1)).isoformat()
    assert_error(
        client.post(
            "/api/v1/checkins/scan", json={**body, "client_scan_id": "l-2", "at": later},
            headers=auth,
        ),
        400,
        "checkin.time_future",
    )  # fmt: skip
    assert_error(
        client.post("/api/v1/checkins/scan", json=body, headers={"Authorization": "Bearer pd_x"}),
        401,
        "auth.token_invalid",
    )
    assert client.post("/api/v1/checkins/scan", json={"code": 5}, headers=auth).status_code == 422
    # A new code revokes the old one, on the lane as on the route.
    issue_qr(db, actor_of(db, user), me, now=T0)
    db.flush()
    assert_error(
        client.post("/api/v1/checkins/scan", json={**body, "client_scan_id": "l-3"}, headers=auth),
        400,
        "qr.person_revoked",
    )
    # What the desk leaves goes to the route: a chip-card string, a sub-location of another venue.
    chip = "004190012346|085999998|Nông Văn Chíp|15031991|Nam|Tổ 5, Sông Hiến|20042021"
    r = client.post("/api/v1/checkins/scan", json={"venue_id": gate.id, "code": chip}, headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["person"]["full_name"] == "Nông Văn Chíp"
    closed = venue(db)
    closed_secret, _ = device_token(db, closed)
    close_venue(db, ADMIN, closed, now=T0, reason="Ngừng kinh doanh")
    db.flush()
    assert_error(
        client.post(
            "/api/v1/checkins/scan",
            json={"venue_id": closed.id, "code": qr_of(db, me)},
            headers={"Authorization": f"Bearer {closed_secret}"},
        ),
        400,
        "checkin.venue_not_operating",
    )


def test_the_lane_leaves_oversized_bodies_to_the_size_limit_and_answers_its_own_errors(
    client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = venue(db)
    secret, _ = device_token(db, gate)
    _, me = citizen_with_person(db)
    auth = {"Authorization": f"Bearer {secret}"}
    body = {"venue_id": gate.id, "code": qr_of(db, me), "client_scan_id": "x" * 64}
    huge = {**body, "padding": "x" * 1_000_001}
    assert_error(client.post("/api/v1/checkins/scan", json=huge, headers=auth), 413,
                 "request.too_large")  # fmt: skip

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(desk, "scan", broken)
    r = client.post("/api/v1/checkins/scan", json=body, headers=auth)
    assert_error(r, 500, "server.error")
    assert r.headers["x-frame-options"] == "DENY"
    assert db.scalar(select(func.count()).select_from(Visit)) == 0  # nothing half-written
