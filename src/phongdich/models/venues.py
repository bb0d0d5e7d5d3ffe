"""Venues (QR control points), their types, sub-locations, and their activity counters."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from phongdich.db import Base, UTCDateTime


class VenueType(Base):
    """A kind of place from the official guidance (extensible), with its default stay."""

    __tablename__ = "venue_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))  # Vietnamese
    name_en: Mapped[str] = mapped_column(String(120))
    # Used to estimate when a visit without a check-out ended (tracing).
    default_stay_minutes: Mapped[int] = mapped_column(Integer)
    is_builtin: Mapped[bool] = mapped_column(Boolean, default=True)


class Venue(Base):
    """A registered QR control point.

    `status` follows pending → approved → active / dormant → archived, or closed; the activity
    states are kept up to date by `record_scan` and the periodic venue job.
    """

    __tablename__ = "venues"
    __table_args__ = (
        Index("ix_venues_area_status", "area_id", "status"),
        Index("ix_venues_name_folded_area", "name_folded", "area_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_folded: Mapped[str] = mapped_column(String(200))
    type_id: Mapped[int] = mapped_column(ForeignKey("venue_types.id"), index=True)
    street_address: Mapped[str] = mapped_column(String(300))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))  # a commune, scheme-aware
    owner_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    contact_phone: Mapped[str | None] = mapped_column(String(16), index=True)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    registered_via: Mapped[str] = mapped_column(String(12))  # self / official / import
    short_code: Mapped[str] = mapped_column(String(12), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    qr_issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_scan_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    last_poster_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    type: Mapped[VenueType] = relationship(lazy="raise")
    locations: Mapped[list[VenueLocation]] = relationship(
        back_populates="venue", lazy="raise", cascade="all, delete-orphan"
    )


class VenueLocation(Base):
    """A gate, floor or room of a venue, with its own short code and poster."""

    __tablename__ = "venue_locations"

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(12))  # gate / floor / room / other
    short_code: Mapped[str] = mapped_column(String(12), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    venue: Mapped[Venue] = relationship(back_populates="locations", lazy="raise")


class VenueDailyActivity(Base):
    """Scans per venue per local (Asia/Ho_Chi_Minh) day, kept up to date as scans arrive.

    Reports read these instead of scanning raw check-ins (10 M rows would take seconds).
    """

    __tablename__ = "venue_daily_activity"
    __table_args__ = (
        UniqueConstraint("venue_id", "day"),
        # Covering: the report reads a range of days without touching the table rows.
        Index("ix_venue_daily_activity_day", "day", "venue_id", "scans", "visitors"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    scans: Mapped[int] = mapped_column(Integer, default=0)
    visitors: Mapped[int] = mapped_column(Integer, default=0)  # distinct people that day
    poster_checks: Mapped[int] = mapped_column(Integer, default=0)


class VenueVisitor(Base):
    """The last day each person was seen at each venue: distinct people over 1/7/30 days
    is a count of rows with `last_day` in the range, exact and without raw check-ins."""

    __tablename__ = "venue_visitors"
    __table_args__ = (
        UniqueConstraint("venue_id", "person_key"),
        Index("ix_venue_visitors_venue_last_day", "venue_id", "last_day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id", ondelete="CASCADE"))
    person_key: Mapped[str] = mapped_column(String(64))
    last_day: Mapped[date] = mapped_column(Date)


class SigningKey(Base):
    """A key that signs printed QR codes. Codes carry its `kid`, so keys can rotate while old
    posters keep working until the key is retired. Only the public half is needed to verify."""

    __tablename__ = "signing_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(16), unique=True)
    purpose: Mapped[str] = mapped_column(String(20))  # venue_qr / person_qr / certificate
    algorithm: Mapped[str] = mapped_column(String(12))  # e.g. EdDSA
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    private_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(Text)
