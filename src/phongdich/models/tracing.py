"""Tracing: cases (F0), exposure candidates, contacts (F1/F2), follow-up, warnings, mốc dịch tễ.

F0 is a confirmed case; F1 a close contact of an F0 during the infectious window; F2 a close
contact of an F1 between the F1's exposure and quarantine (Ministry of Health, late 2021).
Every derived value stores the version of the rule that derived it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from phongdich.db import Base, UTCDateTime


class Case(Base):
    """A confirmed case (F0). `area_id` is the commune of the person's address when registered:
    health officers of that commune, its district and province see the case.

    The infectious window is derived from onset / sample / isolation (`tracing.exposure.
    infectious_window`) and stored with the rule version that derived it.
    """

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_area_confirmed", "area_id", "confirmed_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)  # BN-04-000123
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    confirmed_on: Mapped[date] = mapped_column(Date)
    sample_on: Mapped[date | None] = mapped_column(Date)
    onset_on: Mapped[date | None] = mapped_column(Date)  # None: no symptoms
    isolated_on: Mapped[date | None] = mapped_column(Date)
    classification: Mapped[str] = mapped_column(String(20))  # community / in_quarantine / imported
    status: Mapped[str] = mapped_column(String(12), default="active")  # active / recovered / died
    # The day of the outcome (recovered or died); None while the case is active.
    outcome_on: Mapped[date | None] = mapped_column(Date)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    window_end: Mapped[datetime] = mapped_column(UTCDateTime())
    rules_version: Mapped[str] = mapped_column(String(40))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    candidates_computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    venues_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(String(500))


class Contact(Base):
    """A confirmed close contact: F1 of a case (generation 1), or F2 through an F1 (generation 2,
    `source_contact_id` names the F1). Quarantine dates come from the dated rule named in
    `quarantine_rule_version`; the commune health station of the person's address follows up.
    """

    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("case_id", "person_id"),
        Index("ix_contacts_station_status", "station_area_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    generation: Mapped[int] = mapped_column(Integer)  # 1 = F1, 2 = F2
    source_contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    exposure_from: Mapped[datetime] = mapped_column(UTCDateTime())
    exposure_to: Mapped[datetime] = mapped_column(UTCDateTime())
    quarantine_start: Mapped[date] = mapped_column(Date)
    quarantine_end: Mapped[date] = mapped_column(Date)
    quarantine_place: Mapped[str] = mapped_column(String(20))  # facility / home / home_monitoring
    quarantine_rule_version: Mapped[str] = mapped_column(String(60))
    station_area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    status: Mapped[str] = mapped_column(String(12), default="quarantined")
    became_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    f2_computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ExposureCandidate(Base):
    """Someone who may be a contact, with why: every co-presence (venue, times, overlap, how each
    visit's end was derived) and the rule version, in `explanation`. Generation 2 candidates
    were found from an F1's visits (`source_contact_id`)."""

    __tablename__ = "exposure_candidates"
    __table_args__ = (Index("ix_exposure_candidates_case_status", "case_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    generation: Mapped[int] = mapped_column(Integer, default=1)
    source_contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    category: Mapped[str] = mapped_column(String(24))  # f1_likely / f1_candidate / same_venue_…
    overlap_minutes: Mapped[int] = mapped_column(Integer)
    best_daily_minutes: Mapped[int] = mapped_column(Integer)
    household: Mapped[bool] = mapped_column(Boolean, default=False)
    explanation: Mapped[dict[str, Any]] = mapped_column(JSON)
    rules_version: Mapped[str] = mapped_column(String(40))
    first_exposure_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_exposure_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(10), default="proposed")  # confirmed / rejected
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str | None] = mapped_column(String(300))


class FollowUp(Base):
    """One day of a contact's follow-up by the commune health station: due, done (the person
    was reached) or missed (not reached, or nobody recorded the day before it ended).

    `recorded_at`/`done_by_id` say when and by whom the station last recorded the day (a day
    the daily job marked missed has neither); `done_at` is set only when the person was reached.
    """

    __tablename__ = "follow_ups"
    __table_args__ = (
        UniqueConstraint("contact_id", "day"),
        Index("ix_follow_ups_station_day", "station_area_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    station_area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    day: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8), default="due")  # due / done / missed / stopped
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(String(300))
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    symptoms: Mapped[bool | None] = mapped_column(Boolean)  # None: not asked (not reached)
    temperature: Mapped[float | None] = mapped_column(Float)  # °C, when measured


class VenueAlert(Base):
    """A venue owner is told a case was there: the time window and a checklist to tick."""

    __tablename__ = "venue_alerts"
    __table_args__ = (UniqueConstraint("venue_id", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    window_end: Mapped[datetime] = mapped_column(UTCDateTime())
    checklist: Mapped[list[Any]] = mapped_column(JSON)  # [{"key", "done", "done_at"}]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    sms_message_id: Mapped[int | None] = mapped_column(ForeignKey("sms_messages.id"))
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    read_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ExposureNotice(Base):
    """A notice to an exposed person with what to do: in-app for the account that acts for them
    (`user_id`: their own or their guardian's), and by SMS to their phone. It never names the
    case."""

    __tablename__ = "exposure_notices"
    __table_args__ = (UniqueConstraint("contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    generation: Mapped[int] = mapped_column(Integer)
    venue_name: Mapped[str | None] = mapped_column(String(200))
    exposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    quarantine_end: Mapped[date | None] = mapped_column(Date)
    body: Mapped[str] = mapped_column(String(1000))
    sms_message_id: Mapped[int | None] = mapped_column(ForeignKey("sms_messages.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EpiTimeline(Base):
    """The case's mốc dịch tễ (places and times), drafted from its visits. Published only when a
    second official, not the drafter, approves it."""

    __tablename__ = "epi_timelines"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="draft")  # draft / published
    entries: Mapped[list[Any]] = mapped_column(JSON)
    drafted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    drafted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class TracingExport(Base):
    """A generated F1 list (Excel), served only to the official who asked for it."""

    __tablename__ = "tracing_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("background_jobs.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(120))
    rows: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
