"""Check-ins (visits) at venues, and the log of officials' look-ups of a person's history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from phongdich.db import Base, UTCDateTime


class Visit(Base):
    """One person at one venue: checked in at, and (once known or estimated) checked out at.

    `source` says how it was recorded: citizen_scan / staff_scan / hardware_scanner / khai_ho /
    device_batch. `end_rule` says what ended it: explicit (a check-out), next_checkin (the
    person checked in elsewhere), default_stay (the venue type's usual stay), end_of_day_cap
    (local midnight). `last_seen_at` moves when the same person is scanned again at the same
    place within a few minutes: the visit is extended instead of duplicated.

    A device's upload carries a client-generated id per scan; (device token, client scan id) is
    unique, so uploading the same batch twice stores nothing twice.
    """

    __tablename__ = "visits"
    __table_args__ = (
        UniqueConstraint("device_token_id", "client_scan_id"),
        # Every column the tracing reads use (issue #5): who was at a venue that day, and
        # which visits reach into an exposure, are answered from the index alone.
        Index(
            "ix_visits_venue_checked_in_out_person",
            "venue_id",
            "checked_in_at",
            "checked_out_at",
            "person_id",
        ),
        Index("ix_visits_person_checked_in", "person_id", "checked_in_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"))
    location_id: Mapped[int | None] = mapped_column(ForeignKey("venue_locations.id"))
    source: Mapped[str] = mapped_column(String(20))
    checked_in_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    checked_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_rule: Mapped[str | None] = mapped_column(String(16))
    # The venue type's default stay when the visit began: the rule version the estimate used.
    default_stay_minutes: Mapped[int] = mapped_column(Integer)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    device_token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"))
    client_scan_id: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class UncountedVisit(Base):
    """A new visit the venue counters have not counted yet (`checkins.counting`).

    A scan writes this one small row instead of the three counter writes (the day's counts, the
    venue's visitor row, the venue's last scan), which cost a third of a device scan; the
    counting job takes these in bulk every minute and deletes them as it counts. No foreign key
    (one check less per scan): a visit deleted before it is counted is simply not counted.
    """

    __tablename__ = "uncounted_visits"

    visit_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class HistoryLookup(Base):
    """An official looked at a person's movement history, saying why. The person sees these."""

    __tablename__ = "history_lookups"
    __table_args__ = (Index("ix_history_lookups_person_at", "person_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor_label: Mapped[str] = mapped_column(String(160))
    purpose: Mapped[str] = mapped_column(Text)
    case_ref: Mapped[str | None] = mapped_column(String(60))
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    window_end: Mapped[datetime] = mapped_column(UTCDateTime())
    visits_shown: Mapped[int] = mapped_column(Integer, default=0)
