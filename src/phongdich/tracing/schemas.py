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
    status: str  # active / recovered / died
    outcome_on: date | None
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


class OutcomeRequest(BaseModel):
    """Recovered or died on a day; `correction` (with a reason) changes an outcome already set,
    and only a correction may withdraw it (`"active"`)."""

    outcome: Literal["recovered", "died", "active"]
    on: date | None = None
    correction: bool = False
    reason: str = Field(default="", max_length=300)


class FollowUpRecord(BaseModel):
    """One day's follow-up: reached or not; if reached, symptoms yes/no and the temperature."""

    reached: bool
    symptoms: bool | None = None
    temperature: float | None = Field(default=None, description="°C, 34 to 43")
    note: str = Field(default="", max_length=300)


class FollowUpRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    contact_id: int
    station_area_id: int | None
    day: date
    status: str  # due / done / missed
    symptoms: bool | None
    temperature: float | None
    note: str | None
    recorded_at: datetime | None


class DueFollowUp(BaseModel):
    """A person on the station's list for the day, with the earlier days they were missed."""

    follow_up: FollowUpRead
    person_id: int
    full_name: str
    phone: str | None
    generation: int
    quarantine_end: date
    quarantine_place: str
    station: str
    missed_days: list[date]
