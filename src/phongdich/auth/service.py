"""Users and role grants: create, grant, revoke, and load a user's Principal."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from phongdich.audit.service import Actor, record
from phongdich.auth.passwords import MIN_LENGTH, hash_password
from phongdich.auth.policy import AreaRef, Grant, Principal, Target, require
from phongdich.auth.roles import ROLE_AREA_LEVEL, ROLE_OBJECT_TYPE, ROLE_SCOPE, Role, Scope
from phongdich.core.errors import AppError, Conflict, NotFound
from phongdich.core.phone import normalize_phone
from phongdich.core.text import normalize
from phongdich.models import Area, RoleGrant, User

# The command line acts with the full rights of whoever may run it on the server.
CLI_PRINCIPAL = Principal(label="dòng lệnh (CLI)", grants=(Grant(Role.ADMIN),))


def area_ref(area: Area) -> AreaRef:
    return AreaRef(scheme=area.scheme, path=area.path, id=area.id)


def _grant_of(row: RoleGrant, areas: dict[int, Area]) -> Grant:
    return Grant(
        role=Role(row.role),
        area=area_ref(areas[row.area_id]) if row.area_id is not None else None,
        object_type=row.object_type,
        object_id=row.object_id,
    )


def principal_for(session: Session, user: User) -> Principal:
    """Every grant the user holds, with area paths resolved in one query."""
    rows = list(session.scalars(select(RoleGrant).where(RoleGrant.user_id == user.id)))
    area_ids = {r.area_id for r in rows if r.area_id is not None}
    areas = (
        {a.id: a for a in session.scalars(select(Area).where(Area.id.in_(area_ids)))}
        if area_ids
        else {}
    )
    return Principal(
        label=user.full_name + (f" ({user.username})" if user.username else ""),
        user_id=user.id,
        grants=tuple(_grant_of(r, areas) for r in rows),
    )


def _check_password(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise AppError(
            "password.too_short",
            "Mật khẩu phải có ít nhất {min_length} ký tự.",
            {"min_length": MIN_LENGTH},
        )


def _grant_target(
    role: Role, area: Area | None, object_type: str | None, object_id: int | None
) -> Target:
    """Who may hand out a role: whoever may manage users where the grant would apply."""
    return Target(
        area=area_ref(area) if area else None, object_type=object_type, object_id=object_id
    )


def validate_grant_scope(
    role: Role, area: Area | None, object_type: str | None, object_id: int | None
) -> None:
    """A role is held only in the kind of scope it is made for."""
    scope = ROLE_SCOPE[role]
    bad = AppError(
        "role.scope_invalid",
        "Phạm vi của vai trò không hợp lệ.",
        {"role": role.value, "scope": scope.value},
    )
    if scope is Scope.SELF and (area or object_type):
        raise bad
    if scope is Scope.OBJECT and (
        area or object_type != ROLE_OBJECT_TYPE[role] or object_id is None
    ):
        raise bad
    if scope in (Scope.AREA, Scope.AREA_OR_NATION):
        if object_type is not None:
            raise bad
        if area is None and scope is Scope.AREA:
            raise bad
        if area is not None and area.level not in ROLE_AREA_LEVEL[role]:
            raise AppError(
                "role.area_level_invalid",
                "Vai trò này không được giao ở cấp đơn vị hành chính đã chọn.",
                {"role": role.value, "level": area.level},
            )


def grant_role(
    session: Session,
    actor: Actor,
    user: User,
    role: Role,
    *,
    now: datetime,
    area: Area | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
    check: bool = True,
) -> RoleGrant:
    """Give `user` a role in a scope. `check=False` is for services that already authorized
    the wider action (e.g. a venue owner adding staff to their own venue)."""
    validate_grant_scope(role, area, object_type, object_id)
    if check:
        require(actor.principal, "user.manage", _grant_target(role, area, object_type, object_id))
    area_id = area.id if area else None
    existing = session.scalar(
        select(RoleGrant).where(
            RoleGrant.user_id == user.id,
            RoleGrant.role == role.value,
            RoleGrant.area_id.is_not_distinct_from(area_id),
            RoleGrant.object_type.is_not_distinct_from(object_type),
            RoleGrant.object_id.is_not_distinct_from(object_id),
        )
    )
    if existing:
        return existing
    grant = RoleGrant(
        user_id=user.id,
        role=role.value,
        area_id=area.id if area else None,
        object_type=object_type,
        object_id=object_id,
        created_at=now,
    )
    session.add(grant)
    session.flush()
    record(
        session,
        actor,
        "role.grant",
        now=now,
        object_type="user",
        object_id=user.id,
        area_id=area.id if area else None,
        details={"role": role.value, "object_type": object_type, "object_id": object_id},
    )
    return grant


def revoke_grant(
    session: Session, actor: Actor, grant: RoleGrant, *, now: datetime, check: bool = True
) -> None:
    """Take a role away (audited)."""
    area = session.get(Area, grant.area_id) if grant.area_id else None
    if check:
        require(
            actor.principal,
            "user.manage",
            _grant_target(Role(grant.role), area, grant.object_type, grant.object_id),
        )
    session.delete(grant)
    session.flush()
    record(
        session,
        actor,
        "role.revoke",
        now=now,
        object_type="user",
        object_id=grant.user_id,
        area_id=grant.area_id,
        details={
            "role": grant.role,
            "object_type": grant.object_type,
            "object_id": grant.object_id,
        },
    )


def create_user(
    session: Session,
    actor: Actor,
    *,
    now: datetime,
    full_name: str,
    username: str | None = None,
    phone: str | None = None,
    password: str | None = None,
    role: Role | None = None,
    area: Area | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
    check: bool = True,
) -> User:
    """Create an account, optionally with its first role (checked like any grant)."""
    full_name = normalize(full_name)
    if not full_name:
        raise AppError("user.name_required", "Vui lòng nhập họ và tên.")
    if not username and not phone:
        raise AppError(
            "user.identifier_required", "Tài khoản cần tên đăng nhập hoặc số điện thoại."
        )
    if username is not None:
        username = username.strip().lower()
        if not username.replace("_", "").replace(".", "").isalnum() or not username.isascii():
            raise AppError(
                "user.username_invalid",
                "Tên đăng nhập chỉ gồm chữ không dấu, số, dấu chấm và gạch dưới.",
                {"username": username},
            )
    if phone is not None:
        phone = normalize_phone(phone)
    if password is not None:
        _check_password(password)
    if role is not None:
        validate_grant_scope(role, area, object_type, object_id)
        if check:
            require(
                actor.principal, "user.manage", _grant_target(role, area, object_type, object_id)
            )
    elif check:
        require(actor.principal, "user.manage")
    user = User(
        full_name=full_name,
        username=username,
        phone=phone,
        password_hash=hash_password(password) if password else None,
        created_at=now,
    )
    session.add(user)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(
            "user.exists",
            "Tên đăng nhập hoặc số điện thoại đã được dùng cho một tài khoản khác.",
            {"username": username, "phone": phone},
        ) from exc
    record(session, actor, "user.create", now=now, object_type="user", object_id=user.id)
    if role is not None:
        grant_role(
            session,
            actor,
            user,
            role,
            now=now,
            area=area,
            object_type=object_type,
            object_id=object_id,
            check=False,
        )
    return user


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user.not_found", "Không tìm thấy tài khoản.")
    return user


def set_password(
    session: Session, actor: Actor, user: User, password: str, *, now: datetime
) -> None:
    _check_password(password)
    user.password_hash = hash_password(password)
    record(session, actor, "user.password_set", now=now, object_type="user", object_id=user.id)


def user_home_areas(session: Session, user: User) -> list[Area]:
    """The areas the user holds roles in (what an official's pages are about)."""
    return list(
        session.scalars(
            select(Area)
            .join(RoleGrant, RoleGrant.area_id == Area.id)
            .where(RoleGrant.user_id == user.id)
            .order_by(Area.path)
        )
    )


def users_with_grants(session: Session) -> list[User]:
    return list(session.scalars(select(User).options(selectinload(User.grants)).order_by(User.id)))
