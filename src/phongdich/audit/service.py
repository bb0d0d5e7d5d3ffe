"""Write and read audit entries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from phongdich.auth.policy import Principal, areas_for, require_somewhere
from phongdich.models import Area, AuditEntry, RoleGrant


@dataclass(frozen=True)
class Actor:
    """Who acts and from where; `principal` is None for the system itself (jobs, CLI demo)."""

    principal: Principal | None
    ip: str | None = None

    @property
    def label(self) -> str:
        return self.principal.label if self.principal else "hệ thống"


SYSTEM = Actor(None)


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    now: datetime,
    object_type: str | None = None,
    object_id: int | str | None = None,
    area_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add an audit entry to the current transaction (it commits or rolls back with the change)."""
    p = actor.principal
    entry = AuditEntry(
        at=now,
        actor_user_id=p.user_id if p else None,
        actor_token_id=p.token_id if p else None,
        actor_label=actor.label[:160],
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        area_id=area_id,
        ip=actor.ip,
        details=details,
    )
    session.add(entry)
    return entry


def list_entries(
    session: Session,
    principal: Principal,
    *,
    action: str | None = None,
    actor_user_id: int | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[AuditEntry]:
    """Newest first; administrators only, and only for their own area.

    An entry belongs to an area when it names one, or else when its actor holds a role there
    (sign-ins, account changes), so a province's administrators never read another's log.
    """
    require_somewhere(principal, "audit.read")
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    areas = areas_for(principal, "audit.read")
    if areas is not None:
        inside = or_(
            *[
                (Area.scheme == a.scheme)
                & ((Area.path == a.path) | Area.path.startswith(a.path + "/", autoescape=True))
                for a in areas
            ]
        )
        area_ids = select(Area.id).where(inside)
        actors_inside = select(RoleGrant.user_id).where(RoleGrant.area_id.in_(area_ids))
        query = query.where(
            or_(
                AuditEntry.area_id.in_(area_ids),
                AuditEntry.area_id.is_(None) & AuditEntry.actor_user_id.in_(actors_inside),
            )
        )
    if action:
        query = query.where(AuditEntry.action == action)
    if actor_user_id:
        query = query.where(AuditEntry.actor_user_id == actor_user_id)
    if before_id:
        query = query.where(AuditEntry.id < before_id)
    return list(session.scalars(query))
