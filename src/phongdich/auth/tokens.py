"""API tokens for scanner devices and integrations: shown once, stored hashed, revocable."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from phongdich.audit.service import Actor, record
from phongdich.auth.policy import AreaRef, Grant, Principal, Target, require
from phongdich.auth.roles import Role
from phongdich.auth.service import area_ref, validate_grant_scope
from phongdich.core.errors import AppError, NotFound
from phongdich.db import Raw
from phongdich.models import ApiToken, Area

TOKEN_PREFIX = "pd_"  # noqa: S105  (a public marker, not a secret)


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def create_api_token(
    session: Session,
    actor: Actor,
    *,
    now: datetime,
    name: str,
    role: Role,
    area: Area | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
) -> tuple[str, ApiToken]:
    """Issue a token that acts with one role in one scope. Returns the secret (shown once)."""
    if role in (Role.ADMIN, Role.CITIZEN):
        raise AppError("token.role_invalid", "Không thể cấp mã truy cập cho vai trò này.")
    validate_grant_scope(role, area, object_type, object_id)
    require(
        actor.principal,
        "api_token.manage",
        Target(area=area_ref(area) if area else None, object_type=object_type, object_id=object_id),
    )
    name = name.strip()
    if not name:
        raise AppError(
            "token.name_required", "Vui lòng đặt tên cho mã truy cập (ví dụ: Máy quét cổng 1)."
        )
    prefix = secrets.token_hex(4)
    secret = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(
        name=name[:120],
        prefix=prefix,
        token_hash=_hash(secret),
        role=role.value,
        area_id=area.id if area else None,
        object_type=object_type,
        object_id=object_id,
        created_by_id=actor.principal.user_id if actor.principal else None,
        created_at=now,
    )
    session.add(token)
    session.flush()
    record(
        session,
        actor,
        "api_token.create",
        now=now,
        object_type="api_token",
        object_id=token.id,
        details={"role": role.value, "name": token.name},
    )
    return secret, token


# Every request of a scanner device starts here: one plain query for the token and its area
# (no ORM objects); the row itself is loaded only when last_used_at is due to be written.
# (S105 below: it is SQL that reads a hash, not a password.)
_TOKEN_SQL = (
    "SELECT t.id, t.name, t.token_hash, t.role, t.object_type, t.object_id, t.revoked_at, "  # noqa: S105
    "t.last_used_at, a.id, a.scheme, a.path FROM api_tokens t "
    "LEFT JOIN areas a ON a.id = t.area_id WHERE t.prefix = ?"
)


# last_used_at is written at most once a minute so busy scanners do not churn the row.
TOUCH_EVERY_SECONDS = 60


@dataclass(frozen=True)
class TokenHit:
    principal: Principal
    token_id: int
    last_used_at: datetime | None

    def needs_touch(self, now: datetime) -> bool:
        last = self.last_used_at
        return last is None or (now - last).total_seconds() > TOUCH_EVERY_SECONDS


def read_token(conn: Connection, secret: str) -> TokenHit | None:
    """The principal a bearer token acts as, or None if unknown or revoked (one statement)."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    prefix = secret[len(TOKEN_PREFIX) :].split("_", 1)[0]
    raw = Raw(conn)  # every device scan starts here: plain SQL, not a compiled statement
    rows = raw.run(_TOKEN_SQL, prefix)
    if not rows:
        return None
    (tid, name, token_hash, role, object_type, object_id, revoked_at, last_used_at) = rows[0][:8]
    area_id, area_scheme, area_path = rows[0][8:]
    last_used_at = raw.time_out(last_used_at)
    if revoked_at is not None:
        return None
    if not hmac.compare_digest(token_hash, _hash(secret)):
        return None
    principal = Principal(
        label=f"mã truy cập «{name}»",
        token_id=tid,
        grants=(
            Grant(
                role=Role(role),
                area=AreaRef(scheme=area_scheme, path=area_path, id=area_id)
                if area_id is not None
                else None,
                object_type=object_type,
                object_id=object_id,
            ),
        ),
    )
    return TokenHit(principal, tid, last_used_at)


def touch_token(conn: Connection, token_id: int, now: datetime) -> None:
    """`last_used_at` of a token, on the driver's cursor (a device's scan: see `TokenHit`)."""
    raw = Raw(conn)
    raw.run("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", raw.time_in(now), token_id)


def principal_for_token(session: Session, secret: str, now: datetime) -> Principal | None:
    """The principal a bearer token acts as, or None if unknown or revoked."""
    hit = read_token(session.connection(), secret)
    if hit is None:
        return None
    if hit.needs_touch(now):
        # Through the ORM, so it is flushed with the request's other writes, not here.
        token = session.get(ApiToken, hit.token_id)
        if token is not None:
            token.last_used_at = now
    return hit.principal


def revoke_api_token(session: Session, actor: Actor, token_id: int, *, now: datetime) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("token.not_found", "Không tìm thấy mã truy cập.")
    area = session.get(Area, token.area_id) if token.area_id else None
    require(
        actor.principal,
        "api_token.manage",
        Target(
            area=area_ref(area) if area else None,
            object_type=token.object_type,
            object_id=token.object_id,
        ),
    )
    if token.revoked_at is None:
        token.revoked_at = now
        record(
            session, actor, "api_token.revoke", now=now, object_type="api_token", object_id=token.id
        )
    return token


def tokens_held_for(
    session: Session, principal: Principal | None, target: Target
) -> list[ApiToken]:
    """The tokens that act for one thing (a venue's scanner devices), those in use first, then
    the newest; for whoever may manage tokens there. `target` names the thing."""
    if target.object_type is None or target.object_id is None:
        raise ValueError("tokens_held_for needs a thing (object_type and object_id)")
    require(principal, "api_token.manage", target)
    return list(
        session.scalars(
            select(ApiToken)
            .where(
                ApiToken.object_type == target.object_type,
                ApiToken.object_id == target.object_id,
            )
            .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())
        )
    )
