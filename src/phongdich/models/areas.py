"""Administrative areas of both schemes: 2021 (province, district, commune), 2025 (no district)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from phongdich.db import Base, UTCDateTime


class Area(Base):
    """One administrative unit. `code` is only unique within (scheme, level).

    `path` is the chain of codes from the province down ("04/042/01267"), so "is X inside Y"
    is a prefix test on an indexed column rather than a recursive query.
    """

    __tablename__ = "areas"
    __table_args__ = (
        UniqueConstraint("scheme", "level", "code"),
        Index("ix_areas_scheme_path", "scheme", "path"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme: Mapped[str] = mapped_column(String(4))  # "2021" or "2025"
    level: Mapped[str] = mapped_column(String(10))  # province / district / commune
    code: Mapped[str] = mapped_column(String(5))  # zero-padded: 04, 042, 01267
    name: Mapped[str] = mapped_column(String(120))
    division_type: Mapped[str] = mapped_column(String(40))
    name_folded: Mapped[str] = mapped_column(String(120), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    path: Mapped[str] = mapped_column(String(40))

    parent: Mapped[Area | None] = relationship(remote_side=[id], lazy="raise")


class AreaSetting(Base):
    """A per-area switch set by that area's officials (e.g. approve venues without review)."""

    __tablename__ = "area_settings"
    __table_args__ = (UniqueConstraint("area_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(60))
    value: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
