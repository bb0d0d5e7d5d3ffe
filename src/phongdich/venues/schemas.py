"""API shapes for venues, their types, staff, sub-locations and imports."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from phongdich.areas.schemas import AreaRead
from phongdich.auth.schemas import AreaKey


class VenueTypeRead(BaseModel):
    code: str
    name: str
    name_en: str
    default_stay_minutes: int
    is_builtin: bool


class VenueTypeCreate(BaseModel):
    code: str = Field(min_length=2, max_length=40)
    name: str = Field(min_length=1, max_length=120)
    name_en: str = Field(min_length=1, max_length=120)
    default_stay_minutes: int = Field(ge=1, le=24 * 60)


class VenueCreate(BaseModel):
    """A new venue. `confirm_duplicate` says: I saw the likely duplicates, it is another place."""

    name: str = Field(max_length=200)
    type_code: str = Field(max_length=40)
    street_address: str = Field(max_length=300)
    commune: AreaKey
    contact_phone: str | None = Field(default=None, max_length=30)
    confirm_duplicate: bool = False


class VenueChange(BaseModel):
    """A change to a venue: only the fields given change."""

    name: str | None = Field(default=None, max_length=200)
    type_code: str | None = Field(default=None, max_length=40)
    street_address: str | None = Field(default=None, max_length=300)
    contact_phone: str | None = Field(default=None, max_length=30)


class VenueRead(BaseModel):
    id: int
    name: str
    type: VenueTypeRead
    street_address: str
    commune: AreaRead
    contact_phone: str | None
    owner_user_id: int | None
    status: str
    registered_via: str
    short_code: str
    created_at: datetime
    approved_at: datetime | None
    closed_at: datetime | None
    last_scan_at: datetime | None


class VenuePage(BaseModel):
    items: list[VenueRead]
    total: int
    page: int
    per_page: int


class Reason(BaseModel):
    reason: str = Field(default="", max_length=500)


class StaffAdd(BaseModel):
    phone: str = Field(max_length=30)
    full_name: str = Field(default="", max_length=120)


class StaffRead(BaseModel):
    user_id: int
    full_name: str
    phone: str | None
    role: str
    since: datetime


class LocationCreate(BaseModel):
    name: str = Field(max_length=120)
    kind: str = Field(pattern=r"^(gate|floor|room|other)$")


class LocationRead(BaseModel):
    id: int
    name: str
    kind: str
    short_code: str
    created_at: datetime


class ImportErrorRead(BaseModel):
    row: int
    column: str
    message: str


class ImportWarningRead(BaseModel):
    row: int
    message: str
    venue_ids: list[int]


class ImportRowRead(BaseModel):
    row: int
    name: str
    type: str
    street_address: str
    commune: str
    contact_phone: str | None


class ImportPreviewRead(BaseModel):
    accepted: bool
    row_count: int
    errors: list[ImportErrorRead]
    warnings: list[ImportWarningRead]
    rows: list[ImportRowRead] = Field(description="The first rows, as they will be stored.")


class ImportResult(BaseModel):
    created: int
    venue_ids: list[int]
