"""API shapes for tracing."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class CaseCreate(BaseModel):
    person_id: int
    confirmed_on: date
    sample_on: date | None = None
    onset_on: date | None = None
    isolated_on: date | None = None
    classification: Literal["community", "in_quarantine", "imported"] = "community"
    note: str | None = Field(default=None, max_length=500)


class CaseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    person_id: int
    area_id: int
    confirmed_on: date
    sample_on: date | None
    onset_on: date | None
    isolated_on: date | None
    classification: str
    status: str
    window_start: datetime
    window_end: datetime
    rules_version: str


class CandidateRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    case_id: int
    person_id: int
    generation: int
    source_contact_id: int | None
    category: str
    overlap_minutes: int
    best_daily_minutes: int
    household: bool
    status: str
    rules_version: str
    explanation: dict[str, Any]


class DecisionRequest(BaseModel):
    candidate_ids: list[int] = Field(min_length=1, max_length=500)
    decision: Literal["confirmed", "rejected"]
    note: str | None = Field(default=None, max_length=300)


class ContactRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    case_id: int
    person_id: int
    generation: int
    source_contact_id: int | None
    exposure_from: datetime
    exposure_to: datetime
    quarantine_start: date
    quarantine_end: date
    quarantine_place: str
    quarantine_rule_version: str
    station_area_id: int | None
    status: str
    became_case_id: int | None


class BecomeCase(BaseModel):
    confirmed_on: date
    sample_on: date | None = None
    onset_on: date | None = None


class AlertRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    venue_id: int
    case_id: int
    window_start: datetime
    window_end: datetime
    checklist: list[dict[str, Any]]
    read_at: datetime | None


class TimelineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    case_id: int
    status: str
    entries: list[dict[str, Any]]
    drafted_by_id: int | None
    approved_by_id: int | None
    approved_at: datetime | None


class ExportRequest(BaseModel):
    case_id: int | None = None


class JobQueued(BaseModel):
    job_id: int
    status_url: str
