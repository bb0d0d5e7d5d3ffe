"""SMS senders. Every message is first written to the outbox in the caller's transaction.

The default sender stops there, so the demo works with no gateway and administrators can read
what would have been sent. The HTTP gateway sender delivers queued messages after the commit
(and again from the periodic job, for anything a crash left behind).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from phongdich.auth.policy import Principal, require_somewhere
from phongdich.models import SmsMessage


class SmsSender(Protocol):
    def queue(
        self, session: Session, phone: str, body: str, purpose: str, now: datetime
    ) -> SmsMessage: ...

    def deliver_pending(self, session: Session, now: datetime) -> int: ...


class OutboxSender:
    """Keeps messages in the outbox only: for the demo, tests and sites with no gateway."""

    status = "outbox"

    def queue(
        self, session: Session, phone: str, body: str, purpose: str, now: datetime
    ) -> SmsMessage:
        msg = SmsMessage(
            phone=phone, body=body, purpose=purpose, status=self.status, created_at=now
        )
        session.add(msg)
        session.flush()
        return msg

    def deliver_pending(self, session: Session, now: datetime) -> int:
        return 0


class HttpGatewaySender(OutboxSender):
    """Posts queued messages as JSON {phone, message} to a gateway with a bearer token."""

    status = "queued"

    def __init__(self, url: str, token: str, client: httpx.Client | None = None) -> None:
        self.url = url
        self.token = token
        self.client = client or httpx.Client(timeout=10)

    def deliver_pending(self, session: Session, now: datetime) -> int:
        sent = 0
        pending = session.scalars(
            select(SmsMessage)
            .where(SmsMessage.status == "queued")
            .order_by(SmsMessage.id)
            .limit(100)
        )
        for msg in pending:
            try:
                response = self.client.post(
                    self.url,
                    json={"phone": msg.phone, "message": msg.body},
                    headers={"Authorization": f"Bearer {self.token}"},
                )
                response.raise_for_status()
            except httpx.HTTPError as exc:
                msg.status, msg.error = "failed", str(exc)[:300]
                continue
            msg.status, msg.sent_at, msg.error = "sent", now, None
            sent += 1
        session.flush()
        return sent


def outbox(
    session: Session, principal: Principal, *, phone: str | None = None, limit: int = 100
) -> list[SmsMessage]:
    """The newest messages, for administrators (the demo's way to read sign-in codes).

    Messages carry no area: the outbox is an operator's tool for whoever runs the platform.
    """
    require_somewhere(principal, "sms.outbox.read")
    query = select(SmsMessage).order_by(SmsMessage.id.desc()).limit(limit)
    if phone:
        query = query.where(SmsMessage.phone == phone)
    return list(session.scalars(query))
