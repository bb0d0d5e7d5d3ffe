"""API shapes for check-ins: single scans, device batches, visits and a venue's day."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class ScanRequest(BaseModel):
    """A staff or device scan: the personal QR (URL or token) or a chip CCCD string."""

    venue_id: int
    code: str = Field(max_length=1000)
    location_id: int | None = None
    client_scan_id: str | None = Field(default=None, max_length=64)
    at: datetime | None = None


class WalkInRequest(BaseModel):
    """Khai hộ: staff record someone without a phone, by ID number or by phone and name."""

    venue_id: int
    full_name: str | None = Field(default=None, max_length=120)
    id_type: str = Field(default="none", pattern=r"^(cccd|cmnd|passport|none)$")
    id_number: str | None = Field(default=None, max_length=30)
    phone: str | None = Field(default=None, max_length=30)
    birth_year: int | None = Field(default=None, ge=1900, le=2100)


class CitizenCheckIn(BaseModel):
    """A citizen confirms a check-in at the venue whose poster they scanned."""

    venue_token: str = Field(max_length=1000)
    person_ids: list[int] = Field(min_length=1, max_length=21)


class BatchRequest(BaseModel):
    """Rows are checked one by one (not by the request schema), so one malformed row is
    reported on its own instead of refusing the whole upload."""

    scans: list[Any] = Field(max_length=2000)


class PersonBrief(BaseModel):
    """What the staff need to see: the name and birth year, nothing more."""

    id: int
    full_name: str
    birth_year: int | None


class VisitRead(BaseModel):
    id: int
    person_id: int
    person_name: str
    venue_id: int
    venue_name: str
    location_name: str | None
    source: str
    checked_in_at: datetime
    ended_at: datetime
    end_rule: str
    estimated: bool


class ScanResult(BaseModel):
    outcome: str  # created / extended / duplicate
    visit_id: int
    person: PersonBrief


class RowErrorRead(BaseModel):
    index: int
    client_scan_id: str | None
    code: str
    message: str


class BatchResultRead(BaseModel):
    received: int
    stored: int
    extended: int
    duplicates: int
    errors: list[RowErrorRead]


class VenueDayRead(BaseModel):
    venue_id: int
    occupancy: int  # inside now, of all the day's visits
    total: int  # visits that began today (`visits` holds the newest of them)
    visits: list[VisitRead]
