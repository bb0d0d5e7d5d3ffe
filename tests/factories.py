"""Per-domain builders for test data, going through the real services."""

from __future__ import annotations

from itertools import count

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from phongdich.areas.queries import get_area
from phongdich.audit.service import SYSTEM
from phongdich.auth.roles import Role
from phongdich.auth.service import create_user
from phongdich.models import User
from tests.conftest import T0

PASSWORD = "mat-khau-thu-nghiem"
_seq = count(1)

# Two districts of Cao Bằng, and a commune in each.
TP_CAO_BANG = ("district", "040")
HOA_AN = ("district", "051")
SONG_HIEN = ("commune", "01267")  # in TP Cao Bằng
HOANG_TUNG = ("commune", "01696")  # in Hòa An
PROVINCE = ("province", "04")


def official(
    db: Session, role: Role, area: tuple[str, str] | None, *, scheme: str = "2021", name: str = ""
) -> User:
    n = next(_seq)
    area_obj = get_area(db, scheme, *area) if area else None
    return create_user(
        db,
        SYSTEM,
        now=T0,
        full_name=name or f"Cán bộ {n}",
        username=f"canbo{n}",
        password=PASSWORD,
        role=role,
        area=area_obj,
        check=False,
    )


def venue_user(db: Session, role: Role, venue_id: int) -> User:
    n = next(_seq)
    return create_user(
        db,
        SYSTEM,
        now=T0,
        full_name=f"Nhân viên {n}",
        username=f"nhanvien{n}",
        password=PASSWORD,
        role=role,
        object_type="venue",
        object_id=venue_id,
        check=False,
    )


def sign_in(client: TestClient, user: User) -> str:
    """Sign in through the API; returns the CSRF token to send with changes."""
    r = client.post("/api/v1/auth/password", json={"username": user.username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return r.headers["x-csrf-token"]
