"""Per-area settings that officials of the area (or above) may read and change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from phongdich.audit.service import Actor, record
from phongdich.auth.policy import Principal, Target, require
from phongdich.auth.service import area_ref
from phongdich.core.errors import AppError
from phongdich.core.i18n import N_
from phongdich.models import Area, AreaSetting


@dataclass(frozen=True)
class SettingSpec:
    key: str
    label: str
    default: str
    choices: tuple[str, ...]


SETTINGS = {
    s.key: s
    for s in (
        SettingSpec(
            "venue_auto_approve",
            N_("Tự động duyệt địa điểm đăng ký mới trong địa bàn"),
            "false",
            ("true", "false"),
        ),
    )
}


def area_target(area: Area) -> Target:
    return Target(area=area_ref(area))


def read_settings(session: Session, principal: Principal | None, area: Area) -> dict[str, str]:
    """The area's settings with defaults filled in; officials of the area or above only."""
    require(principal, "area.settings.read", area_target(area))
    stored = {
        s.key: s.value
        for s in session.scalars(select(AreaSetting).where(AreaSetting.area_id == area.id))
    }
    return {key: stored.get(key, spec.default) for key, spec in SETTINGS.items()}


def effective_setting(session: Session, area: Area, key: str) -> str:
    """The value that applies in `area`: its own, else the nearest ancestor's, else the default.

    No permission check: services use it to decide (e.g. auto-approve), never to show it.
    """
    prefixes = area.path.split("/")
    paths = ["/".join(prefixes[: i + 1]) for i in range(len(prefixes))]
    rows = session.execute(
        select(Area.path, AreaSetting.value)
        .join(AreaSetting, AreaSetting.area_id == Area.id)
        .where(Area.scheme == area.scheme, Area.path.in_(paths), AreaSetting.key == key)
    ).all()
    by_path = {path: value for path, value in rows}
    for path in reversed(paths):
        if path in by_path:
            return str(by_path[path])
    return SETTINGS[key].default


def change_setting(
    session: Session, actor: Actor, area: Area, key: str, value: str, *, now: datetime
) -> AreaSetting:
    """Set one setting for an area (audited)."""
    require(actor.principal, "area.settings.change", area_target(area))
    spec = SETTINGS.get(key)
    if spec is None:
        raise AppError("setting.unknown", "Không có thiết lập này.", {"key": key})
    if value not in spec.choices:
        raise AppError(
            "setting.value_invalid",
            "Giá trị không hợp lệ cho «{label}».",
            {"key": key, "allowed": list(spec.choices), "label": spec.label},
        )
    row = session.scalar(
        select(AreaSetting).where(AreaSetting.area_id == area.id, AreaSetting.key == key)
    )
    old = row.value if row else None
    if row is None:
        row = AreaSetting(area_id=area.id, key=key, value=value, updated_at=now)
        session.add(row)
    row.value, row.updated_at = value, now
    row.updated_by_id = actor.principal.user_id if actor.principal else None
    session.flush()
    record(
        session,
        actor,
        "area.setting.change",
        now=now,
        object_type="area",
        object_id=area.id,
        area_id=area.id,
        details={"key": key, "old": old, "new": value},
    )
    return row
