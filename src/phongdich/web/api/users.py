"""Accounts: list and read within one's area, create (administrators)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from phongdich.auth.policy import require_somewhere
from phongdich.auth.queries import read_user, visible_users
from phongdich.auth.schemas import UserCreate, UserRead
from phongdich.auth.service import create_user
from phongdich.web.api.common import api_write, area_from_key, user_read
from phongdich.web.context import CtxDep

router = APIRouter(prefix="/users", tags=["users"])


@router.get("", summary="Tài khoản trong địa bàn của tôi")
def list_users(
    ctx: CtxDep, q: Annotated[str | None, Query(max_length=60)] = None
) -> list[UserRead]:
    principal = ctx.require_principal()
    require_somewhere(principal, "user.read")
    return [user_read(ctx.db, u) for u in visible_users(ctx.db, principal, search=q)]


@router.get("/{user_id}", summary="Một tài khoản")
def get_one(user_id: int, ctx: CtxDep) -> UserRead:
    return user_read(ctx.db, read_user(ctx.db, ctx.require_principal(), user_id))


@router.post("", status_code=201, summary="Tạo tài khoản (quản trị)")
def create(body: UserCreate, ctx: CtxDep, request: Request) -> UserRead:
    api_write(ctx, request)
    ctx.require_principal()
    user = create_user(
        ctx.db,
        ctx.actor,
        now=ctx.now,
        full_name=body.full_name,
        username=body.username,
        phone=body.phone,
        password=body.password,
        role=body.role,
        area=area_from_key(ctx.db, body.area),
        object_type=body.object_type,
        object_id=body.object_id,
    )
    return user_read(ctx.db, read_user(ctx.db, ctx.require_principal(), user.id))
