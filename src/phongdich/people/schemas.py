"""API shapes for people, dependants, personal QR codes and history look-ups."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from phongdich.auth.schemas import AreaKey


class PersonWrite(BaseModel):
    full_name: str = Field(max_length=120)
    id_type: str = Field(default="none", pattern=r"^(cccd|cmnd|passport|none)$")
    id_number: str | None = Field(default=None, max_length=30)
    birth_date: date | None = None
    birth_year: int | None = Field(default=None, ge=1900, le=2100)
    sex: str | None = Field(default=None, pattern=r"^(male|female)$")
    phone: str | None = Field(default=None, max_length=30)
    nationality: str = Field(default="VN", max_length=3)
    street_address: str | None = Field(default=None, max_length=300)
    commune: AreaKey | None = None
    relationship_label: str | None = Field(default=None, max_length=40)


class PersonRead(BaseModel):
    id: int
    full_name: str
    id_type: str
    id_number_masked: str | None  # the last 4 digits only: enough to recognise one's card
    birth_year: int | None
    sex: str | None
    nationality: str
    is_dependant: bool
    relationship_label: str | None
    id_flags: list[str]
    has_qr: bool


class QrRead(BaseModel):
    person_id: int
    token: str
    url: str


class HistoryRequest(BaseModel):
    purpose: str = Field(max_length=1000)
    case_ref: str | None = Field(default=None, max_length=60)
    days: int = Field(default=28, ge=1, le=60)


class LookupRead(BaseModel):
    person_id: int
    at: datetime
    by: str
    purpose: str
    case_ref: str | None
    visits_shown: int


class MergeRequest(BaseModel):
    keep_id: int
    duplicate_id: int
