"""API shapes for accounts, sign-in and tokens."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from phongdich.auth.roles import Role


class CodeRequest(BaseModel):
    phone: str = Field(max_length=30)


class CodeVerify(BaseModel):
    phone: str = Field(max_length=30)
    code: str = Field(max_length=12)


class PasswordSignIn(BaseModel):
    username: str = Field(max_length=60)
    password: str = Field(max_length=200)


class GrantRead(BaseModel):
    role: Role
    role_label: str
    area_scheme: str | None = None
    area_level: str | None = None
    area_code: str | None = None
    object_type: str | None = None
    object_id: int | None = None


class UserRead(BaseModel):
    id: int
    full_name: str
    username: str | None
    phone: str | None
    is_active: bool
    grants: list[GrantRead]


class AreaKey(BaseModel):
    scheme: str = Field(pattern=r"^(2021|2025)$")
    level: str = Field(pattern=r"^(province|district|commune)$")
    code: str = Field(pattern=r"^\d{2,5}$")


class UserCreate(BaseModel):
    full_name: str = Field(min_length=1, max_length=120)
    username: str | None = Field(default=None, max_length=60)
    phone: str | None = Field(default=None, max_length=30)
    password: str | None = Field(default=None, max_length=200)
    role: Role
    area: AreaKey | None = None
    object_type: str | None = None
    object_id: int | None = None


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    role: Role
    area: AreaKey | None = None
    object_type: str | None = None
    object_id: int | None = None


class TokenCreated(BaseModel):
    id: int
    name: str
    token: str = Field(description="Shown once; store it in the device now.")


class TokenRead(BaseModel):
    id: int
    name: str
    prefix: str
    role: Role
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class AuditRead(BaseModel):
    id: int
    at: datetime
    actor_label: str
    action: str
    object_type: str | None
    object_id: str | None
    ip: str | None
    details: dict[str, object] | None
