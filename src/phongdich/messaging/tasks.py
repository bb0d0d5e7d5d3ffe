"""Periodic delivery of SMS: what no request delivered, and what is due for another try."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from phongdich.jobs.registry import PeriodicJob
from phongdich.messaging.sms import SmsSender


def periodic(sender: SmsSender) -> list[PeriodicJob]:
    def deliver(session: Session, now: datetime) -> dict[str, Any]:
        return {"sent": sender.deliver_pending(session, now)}

    return [
        PeriodicJob(
            "messaging.deliver_sms",
            timedelta(minutes=1),
            deliver,
            "Gửi tin nhắn SMS đang chờ và gửi lại tin chưa gửi được",
        )
    ]
