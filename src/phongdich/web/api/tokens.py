"""API tokens for scanner devices and integrations."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import select

from phongdich.auth.policy import require_somewhere
from phongdich.auth.roles import Role
from phongdich.auth.schemas import TokenCreate, TokenCreated, TokenRead
from phongdich.auth.tokens import create_api_token, revoke_api_token
from phongdich.models import ApiToken
from phongdich.web.api.common import api_write, area_from_key
from phongdich.web.context import CtxDep

router = APIRouter(prefix="/tokens", tags=["tokens"])


def _read(t: ApiToken) -> TokenRead:
    return TokenRead(
        id=t.id,
        name=t.name,
        prefix=t.prefix,
        role=Role(t.role),
        created_at=t.created_at,
        revoked_at=t.revoked_at,
        last_used_at=t.last_used_at,
    )


@router.get("", summary="Mã truy cập tôi đã cấp")
def list_tokens(ctx: CtxDep) -> list[TokenRead]:
    user = ctx.require_user()
    require_somewhere(ctx.principal, "api_token.manage")
    rows = ctx.db.scalars(
        select(ApiToken).where(ApiToken.created_by_id == user.id).order_by(ApiToken.id.desc())
    )
    return [_read(t) for t in rows]


@router.post("", status_code=201, summary="Cấp mã truy cập cho thiết bị quét")
def create(body: TokenCreate, ctx: CtxDep, request: Request) -> TokenCreated:
    api_write(ctx, request)
    ctx.require_user()
    secret, token = create_api_token(
        ctx.db,
        ctx.actor,
        now=ctx.now,
        name=body.name,
        role=body.role,
        area=area_from_key(ctx.db, body.area),
        object_type=body.object_type,
        object_id=body.object_id,
    )
    return TokenCreated(id=token.id, name=token.name, token=secret)


@router.delete("/{token_id}", summary="Thu hồi mã truy cập")
def revoke(token_id: int, ctx: CtxDep, request: Request) -> TokenRead:
    api_write(ctx, request)
    ctx.require_principal()
    return _read(revoke_api_token(ctx.db, ctx.actor, token_id, now=ctx.now))
