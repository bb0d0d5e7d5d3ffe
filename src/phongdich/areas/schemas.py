"""API shapes for areas."""

from __future__ import annotations

from pydantic import BaseModel


class AreaRead(BaseModel):
    scheme: str
    level: str
    code: str
    name: str
    full_name: str
    division_type: str


class AreaSettingsRead(BaseModel):
    area: AreaRead
    settings: dict[str, str]


class AreaSettingChange(BaseModel):
    value: str
