"""The status page and API of a background job: its owner and administrators see progress."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from phongdich.auth.roles import Role
from phongdich.jobs.runner import enqueue
from tests.conftest import T0
from tests.factories import HOA_AN, PROVINCE, TP_CAO_BANG, official, sign_in


def test_owner_sees_progress_others_do_not(client: TestClient, db: Session) -> None:
    owner = official(db, Role.DISTRICT_OFFICIAL, TP_CAO_BANG)
    job = enqueue(db, "demo.fill", {}, now=T0, user_id=owner.id)
    job.status, job.progress_done, job.progress_total = "running", 30, 120
    db.flush()

    sign_in(client, owner)
    page = client.get(f"/jobs/{job.id}")
    assert page.status_code == 200
    assert "30 / 120 (25%)" in page.text and 'http-equiv="refresh"' in page.text
    body = client.get(f"/api/v1/jobs/{job.id}").json()
    assert (body["status"], body["percent"]) == ("running", 25)

    stranger = official(db, Role.DISTRICT_OFFICIAL, HOA_AN)
    other = TestClient(client.app)
    sign_in(other, stranger)
    r = other.get(f"/api/v1/jobs/{job.id}")
    assert r.status_code == 404 and r.json()["error"]["code"] == "job.not_found"

    admin = official(db, Role.ADMIN, PROVINCE)
    third = TestClient(client.app)
    sign_in(third, admin)
    assert third.get(f"/api/v1/jobs/{job.id}").json()["progress_done"] == 30
