"""SMS senders. Every message is first written to the outbox in the caller's transaction.

The default sender stops there, so the demo works with no gateway and administrators can read
what would have been sent. The HTTP gateway sender delivers queued messages after the commit
where a request asks for it (sign-in codes), and from the periodic job `messaging.deliver_sms`
every minute for everything else: tracing notices, and whatever a crash left behind.

A gateway that fails (down, overloaded, refusing) does not lose a message: it is tried again
after 1, 2, 4 and 8 minutes, and marked failed, with the gateway's last answer, only after
`MAX_ATTEMPTS` tries. A warning to an exposed person is worth a late delivery.

Delivery is at least once: a request's delivery and the job's, running at the same moment, can
both send a message they both found queued. Claiming each message before sending would hold a
write transaction across the gateway's answers, and on SQLite that stops every scan.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

import httpx
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from phongdich.auth.policy import Principal, require_somewhere
from phongdich.models import SmsMessage

MAX_ATTEMPTS = 5


def retry_delay(attempts: int) -> timedelta:
    """The wait before the next try of a message tried `attempts` times: 1, 2, 4, 8 minutes."""
    return timedelta(minutes=2 ** (attempts - 1))


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

    def deliver_pending(self, session: Session, now: datetime, limit: int = 100) -> int:
        """Send queued messages and those due for another try, oldest first; returns how many
        the gateway took (flush only)."""
        sent = 0
        pending = session.scalars(
            select(SmsMessage)
            .where(
                or_(
                    SmsMessage.status == "queued",
                    and_(SmsMessage.status == "retrying", SmsMessage.next_attempt_at <= now),
                )
            )
            .order_by(SmsMessage.id)
            .limit(limit)
        )
        for msg in pending:
            msg.attempts += 1
            try:
                response = self.client.post(
                    self.url,
                    json={"phone": msg.phone, "message": msg.body},
                    headers={"Authorization": f"Bearer {self.token}"},
                )
                response.raise_for_status()
            except httpx.HTTPError as exc:
                msg.error = str(exc)[:300]
                if msg.attempts >= MAX_ATTEMPTS:
                    msg.status, msg.next_attempt_at = "failed", None
                else:
                    msg.status = "retrying"
                    msg.next_attempt_at = now + retry_delay(msg.attempts)
                continue
            msg.status, msg.sent_at, msg.error, msg.next_attempt_at = "sent", now, None, None
            sent += 1
        session.flush()
        return sent


def sender_for(kind: str, gateway_url: str = "", gateway_token: str = "") -> SmsSender:
    """The sender an entry point's settings name: "outbox" (default) or "http"."""
    if kind == "http":
        return HttpGatewaySender(gateway_url, gateway_token)
    return OutboxSender()


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
