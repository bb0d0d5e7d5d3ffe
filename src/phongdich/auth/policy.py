"""The one authorization mechanism: "may this principal do this action on this target?".

Pages, API endpoints, CLI commands and jobs all call `require` with a `Target` describing the
object: the area it lies in, the thing it is (venue, site), and the user it belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from phongdich.auth.roles import ROLE_ACTIONS, Role
from phongdich.core.errors import Forbidden


@dataclass(frozen=True)
class AreaRef:
    """Enough of an area to decide containment without touching the database."""

    scheme: str
    path: str
    id: int | None = None

    def within(self, outer: AreaRef) -> bool:
        return self.scheme == outer.scheme and (
            self.path == outer.path or self.path.startswith(outer.path + "/")
        )


@dataclass(frozen=True)
class Grant:
    role: Role
    area: AreaRef | None = None
    object_type: str | None = None
    object_id: int | None = None

    @property
    def nationwide(self) -> bool:
        return self.area is None and self.object_type is None and self.role is not Role.CITIZEN


@dataclass(frozen=True)
class Target:
    """What an action is done to. Leave out what does not apply."""

    area: AreaRef | None = None
    object_type: str | None = None
    object_id: int | None = None
    owner_user_id: int | None = None


ANYWHERE = Target()


@dataclass(frozen=True)
class Principal:
    """Who is acting: a signed-in user or an API token, with every grant they hold."""

    label: str
    user_id: int | None = None
    token_id: int | None = None
    grants: tuple[Grant, ...] = field(default_factory=tuple)

    def roles(self) -> set[Role]:
        return {g.role for g in self.grants}


def _covers(grant: Grant, principal: Principal, target: Target) -> bool:
    if grant.role is Role.CITIZEN:
        return target.owner_user_id is not None and target.owner_user_id == principal.user_id
    if grant.object_type is not None:
        return target.object_type == grant.object_type and target.object_id == grant.object_id
    if grant.area is not None:
        return target.area is not None and target.area.within(grant.area)
    return True  # nationwide


def can(principal: Principal | None, action: str, target: Target = ANYWHERE) -> bool:
    """True when some grant of the principal allows `action` on `target`."""
    if principal is None:
        return False
    return any(
        action in ROLE_ACTIONS[g.role] and _covers(g, principal, target) for g in principal.grants
    )


def require(principal: Principal | None, action: str, target: Target = ANYWHERE) -> None:
    """Raise Forbidden (the same shape everywhere) unless `can` says yes."""
    if not can(principal, action, target):
        raise Forbidden(details={"action": action})


def areas_for(principal: Principal, action: str) -> list[AreaRef] | None:
    """The areas in which the principal may take `action`; None means everywhere.

    Used to scope list queries ("venues I may see") rather than filtering row by row.
    """
    refs: list[AreaRef] = []
    for g in principal.grants:
        if action not in ROLE_ACTIONS[g.role]:
            continue
        if g.nationwide:
            return None
        if g.area is not None:
            refs.append(g.area)
    return refs


def objects_for(principal: Principal, action: str, object_type: str) -> set[int]:
    """Ids of the things (venues, sites) for which the principal holds a role allowing `action`."""
    return {
        g.object_id
        for g in principal.grants
        if g.object_type == object_type
        and g.object_id is not None
        and action in ROLE_ACTIONS[g.role]
    }


def can_somewhere(principal: Principal | None, action: str) -> bool:
    """True when the principal holds `action` in at least one scope."""
    return principal is not None and any(action in ROLE_ACTIONS[g.role] for g in principal.grants)


def require_somewhere(principal: Principal | None, action: str) -> None:
    """For list pages: the principal holds `action` in at least one scope (the list is then
    narrowed to those scopes by `areas_for`/`objects_for`)."""
    if not can_somewhere(principal, action):
        raise Forbidden(details={"action": action})
