"""Messages that leave the machine (SMS), kept as an outbox administrators can read."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from phongdich.db import Base, UTCDateTime


class SmsMessage(Base):
    """One SMS: queued in the outbox, and marked sent once a gateway took it. A delivery that
    failed is tried again later (`retrying`, at `next_attempt_at`) until it has been tried
    `messaging.sms.MAX_ATTEMPTS` times (`failed`)."""

    __tablename__ = "sms_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(16), index=True)
    body: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(String(40))
    # outbox / queued / retrying / sent / failed
    status: Mapped[str] = mapped_column(String(12), default="outbox", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(String(300))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
