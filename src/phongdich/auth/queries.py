"""Access-scoped look-ups of accounts."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from phongdich.auth.policy import Principal, Target, areas_for
from phongdich.auth.service import area_ref
from phongdich.core.errors import NotFound
from phongdich.models import Area, RoleGrant, User


def visible_users(
    session: Session, principal: Principal, *, search: str | None = None, limit: int = 200
) -> list[User]:
    """Accounts holding a role inside the areas where the principal may read users."""
    areas = areas_for(principal, "user.read")
    query = select(User).options(selectinload(User.grants)).order_by(User.id).limit(limit)
    if areas is not None:
        if not areas:
            return []
        in_area = or_(
            *[
                (Area.scheme == a.scheme)
                & ((Area.path == a.path) | Area.path.startswith(a.path + "/"))
                for a in areas
            ]
        )
        query = query.where(
            User.id.in_(
                select(RoleGrant.user_id).join(Area, Area.id == RoleGrant.area_id).where(in_area)
            )
        )
    if search:
        like = f"%{search.strip()}%"
        query = query.where(
            or_(User.full_name.ilike(like), User.username.ilike(like), User.phone.ilike(like))
        )
    return list(session.scalars(query))


def user_areas(session: Session, user: User) -> list[Area]:
    ids = [
        g.area_id
        for g in session.scalars(select(RoleGrant).where(RoleGrant.user_id == user.id))
        if g.area_id
    ]
    return list(session.scalars(select(Area).where(Area.id.in_(ids)))) if ids else []


def read_user(session: Session, principal: Principal, user_id: int) -> User:
    """One account, if the principal may read users in an area where it holds a role."""
    user = session.scalar(select(User).options(selectinload(User.grants)).where(User.id == user_id))
    if user is None:
        raise NotFound("user.not_found", "Không tìm thấy tài khoản.")
    if principal.user_id == user.id:
        return user
    areas = user_areas(session, user)
    if not any(_may_read(principal, a) for a in areas) and not _may_read_anywhere(principal):
        raise NotFound("user.not_found", "Không tìm thấy tài khoản.")
    return user


def _may_read(principal: Principal, area: Area) -> bool:
    from phongdich.auth.policy import can

    return can(principal, "user.read", Target(area=area_ref(area)))


def _may_read_anywhere(principal: Principal) -> bool:
    return areas_for(principal, "user.read") is None
