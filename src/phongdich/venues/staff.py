"""Venue staff (người kiểm soát): people an owner delegates to scan at one venue only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from phongdich.audit.service import Actor, record
from phongdich.auth.policy import Principal, Target, require
from phongdich.auth.roles import Role
from phongdich.auth.service import create_user, grant_role, revoke_grant
from phongdich.core.errors import AppError, NotFound
from phongdich.core.phone import display_phone, normalize_phone
from phongdich.core.text import normalize
from phongdich.models import Area, RoleGrant, User, Venue
from phongdich.venues.queries import venue_target


@dataclass(frozen=True)
class StaffMember:
    user_id: int
    full_name: str
    phone: str | None
    role: str  # venue_owner or venue_staff
    since: datetime


def _target(session: Session, venue: Venue) -> Target:
    area = session.get(Area, venue.area_id)
    assert area is not None
    return venue_target(venue, area)


def list_staff(session: Session, principal: Principal | None, venue: Venue) -> list[StaffMember]:
    """The owner(s) and staff of a venue, for whoever may read the venue."""
    require(principal, "venue.read", _target(session, venue))
    rows = session.execute(
        select(RoleGrant, User)
        .join(User, User.id == RoleGrant.user_id)
        .where(
            RoleGrant.object_type == "venue",
            RoleGrant.object_id == venue.id,
            RoleGrant.role.in_((Role.VENUE_OWNER.value, Role.VENUE_STAFF.value)),
        )
        .order_by(RoleGrant.role, RoleGrant.id)
    ).all()
    return [
        StaffMember(
            user_id=user.id,
            full_name=user.full_name,
            phone=user.phone,
            role=grant.role,
            since=grant.created_at,
        )
        for grant, user in rows
    ]


def add_staff(
    session: Session,
    actor: Actor,
    venue: Venue,
    *,
    now: datetime,
    phone: str,
    full_name: str = "",
) -> User:
    """The owner adds a staff member by phone number.

    An unknown phone gets a citizen account, so the person signs in with a phone code like
    everyone else; the staff role is held for this venue only.
    """
    require(actor.principal, "venue.staff.manage", _target(session, venue))
    phone = normalize_phone(phone)
    user = session.scalar(select(User).where(User.phone == phone))
    if user is None:
        user = create_user(
            session,
            actor,
            now=now,
            full_name=normalize(full_name) or display_phone(phone),
            phone=phone,
            role=Role.CITIZEN,
            check=False,
        )
    grant_role(
        session,
        actor,
        user,
        Role.VENUE_STAFF,
        now=now,
        object_type="venue",
        object_id=venue.id,
        check=False,
    )
    record(
        session,
        actor,
        "venue.staff.add",
        now=now,
        object_type="venue",
        object_id=venue.id,
        area_id=venue.area_id,
        details={"user_id": user.id},
    )
    return user


def remove_staff(
    session: Session, actor: Actor, venue: Venue, user_id: int, *, now: datetime
) -> None:
    """The owner removes a staff member; they keep their citizen account."""
    require(actor.principal, "venue.staff.manage", _target(session, venue))
    grant = session.scalar(
        select(RoleGrant).where(
            RoleGrant.user_id == user_id,
            RoleGrant.role == Role.VENUE_STAFF.value,
            RoleGrant.object_type == "venue",
            RoleGrant.object_id == venue.id,
        )
    )
    if grant is None:
        raise NotFound(
            "venue.staff_not_found",
            "Người này không phải nhân viên của địa điểm.",
            {"user_id": user_id},
        )
    if actor.principal and actor.principal.user_id == user_id:
        raise AppError("venue.staff_self", "Bạn không thể tự xoá mình khỏi địa điểm.")
    revoke_grant(session, actor, grant, now=now, check=False)
    record(
        session,
        actor,
        "venue.staff.remove",
        now=now,
        object_type="venue",
        object_id=venue.id,
        area_id=venue.area_id,
        details={"user_id": user_id},
    )
