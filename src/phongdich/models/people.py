"""People: the citizens, dependants and walk-ins whose check-ins are recorded, and their
personal QR codes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from phongdich.db import Base, UTCDateTime


class Person(Base):
    """Someone who checks in: a citizen with an account (`user_id`), a dependant acting through
    a guardian's account (`guardian_user_id`: children, the elderly, khai hộ), or a person
    recorded by venue staff without any account.

    One person per ID number (`id_type`, `id_number`); a mismatch between a CCCD's encoded
    birth year or sex and the declared ones is kept in `id_flags` (flagged, never refused).
    `qr_serial` is the serial of the only personal QR that is currently valid (None: none).
    """

    __tablename__ = "people"
    __table_args__ = (
        UniqueConstraint("id_type", "id_number"),
        Index("ix_people_name_folded", "name_folded"),
        # A case's household (same commune and street address) without reading the commune.
        Index("ix_people_area_street", "area_id", "street_address"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    id_type: Mapped[str] = mapped_column(String(10))  # cccd / cmnd / passport / none
    id_number: Mapped[str | None] = mapped_column(String(20))
    full_name: Mapped[str] = mapped_column(String(120))
    name_folded: Mapped[str] = mapped_column(String(120))
    birth_date: Mapped[date | None] = mapped_column(Date)
    birth_year: Mapped[int | None] = mapped_column(Integer)
    sex: Mapped[str | None] = mapped_column(String(6))  # male / female
    phone: Mapped[str | None] = mapped_column(String(16), index=True)
    nationality: Mapped[str] = mapped_column(String(3), default="VN")  # ISO 3166 alpha-2/3
    street_address: Mapped[str | None] = mapped_column(String(300))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))  # commune
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    guardian_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    relationship_label: Mapped[str | None] = mapped_column(String(40))  # con, mẹ, ông …
    id_flags: Mapped[list[Any] | None] = mapped_column(JSON)
    qr_serial: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_via: Mapped[str] = mapped_column(String(16))  # self / dependant / staff / import
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    merged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PersonQrCode(Base):
    """One issued personal QR: a new issue revokes the previous one (lost phone, printed card
    photographed). The code itself carries only the person id and this serial."""

    __tablename__ = "person_qr_codes"
    __table_args__ = (UniqueConstraint("person_id", "serial"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    serial: Mapped[int] = mapped_column(Integer)
    kid: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # SHA-256 of the token as issued: a scanned token is looked up by it and, found, needs no
    # signature check (`people.personal_qr`). None for codes issued before it was kept.
    token_digest: Mapped[bytes | None] = mapped_column(LargeBinary(32), index=True)
