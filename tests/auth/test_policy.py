"""Authorization on a real database: area scoping, venue scoping, the same refusal everywhere."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from phongdich.areas.queries import get_area
from phongdich.areas.service import change_setting, read_settings
from phongdich.audit.service import Actor
from phongdich.auth.policy import Target, can, require
from phongdich.auth.roles import Role
from phongdich.auth.service import area_ref, principal_for
from phongdich.core.errors import Forbidden
from tests.conftest import T0
from tests.factories import HOA_AN, HOANG_TUNG, SONG_HIEN, TP_CAO_BANG, official, venue_user


def test_district_official_reads_and_changes_own_district_only(db: Session) -> None:
    user = official(db, Role.DISTRICT_OFFICIAL, TP_CAO_BANG)
    me = principal_for(db, user)
    own_commune = get_area(db, "2021", *SONG_HIEN)
    other_commune = get_area(db, "2021", *HOANG_TUNG)
    other_district = get_area(db, "2021", *HOA_AN)

    assert read_settings(db, me, own_commune)["venue_auto_approve"] == "false"
    change_setting(db, Actor(me), own_commune, "venue_auto_approve", "true", now=T0)
    assert read_settings(db, me, own_commune)["venue_auto_approve"] == "true"

    for area in (other_commune, other_district):
        with pytest.raises(Forbidden):
            read_settings(db, me, area)
        with pytest.raises(Forbidden):
            change_setting(db, Actor(me), area, "venue_auto_approve", "true", now=T0)


def test_commune_official_cannot_act_on_their_district(db: Session) -> None:
    me = principal_for(db, official(db, Role.COMMUNE_OFFICIAL, SONG_HIEN))
    district = get_area(db, "2021", *TP_CAO_BANG)
    with pytest.raises(Forbidden):
        change_setting(db, Actor(me), district, "venue_auto_approve", "true", now=T0)


def test_venue_staff_act_only_for_their_venue(db: Session) -> None:
    me = principal_for(db, venue_user(db, Role.VENUE_STAFF, venue_id=7))
    assert can(me, "venue.scan", Target(object_type="venue", object_id=7))
    assert not can(me, "venue.scan", Target(object_type="venue", object_id=8))
    # Staff scan; they do not manage the venue or its staff, even their own.
    assert not can(me, "venue.manage", Target(object_type="venue", object_id=7))
    assert not can(me, "venue.staff.manage", Target(object_type="venue", object_id=7))
    # A venue grant says nothing about the area the venue lies in.
    area = get_area(db, "2021", *SONG_HIEN)
    assert not can(me, "report.read", Target(area=area_ref(area)))
    with pytest.raises(Forbidden):
        read_settings(db, me, area)


def test_grants_are_scheme_aware(db: Session) -> None:
    # Code 04 is Cao Bằng in both schemes, but a 2021 grant does not cover a 2025 commune.
    me = principal_for(db, official(db, Role.PROVINCE_OFFICIAL, ("province", "04")))
    commune_2025 = get_area(db, "2025", "commune", "01654")
    with pytest.raises(Forbidden):
        read_settings(db, me, commune_2025)
    assert read_settings(db, me, get_area(db, "2021", *HOANG_TUNG))


def test_nobody_signed_in_may_do_nothing() -> None:
    assert not can(None, "report.read")
    with pytest.raises(Forbidden) as info:
        require(None, "user.manage")
    assert info.value.code == "forbidden"
