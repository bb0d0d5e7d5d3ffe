"""SMS senders: the outbox keeps messages; the HTTP gateway sender delivers queued ones.

The gateway is the one thing here that leaves the machine, so it is faked with an in-process
HTTP transport that records what it was sent.
"""

from __future__ import annotations

import json

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from phongdich.messaging.sms import HttpGatewaySender, OutboxSender
from phongdich.models import SmsMessage
from tests.conftest import T0


def test_outbox_sender_keeps_messages_unsent(db: Session) -> None:
    msg = OutboxSender().queue(db, "+84912345678", "Xin chào", "test", T0)
    assert msg.status == "outbox"
    assert OutboxSender().deliver_pending(db, T0) == 0
    assert db.scalar(select(SmsMessage.status).where(SmsMessage.id == msg.id)) == "outbox"


def test_gateway_sender_delivers_and_records_failures(db: Session) -> None:
    received: list[dict[str, str]] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer bi-mat"
        body = json.loads(request.content)
        received.append(body)
        return httpx.Response(503 if body["phone"].endswith("9") else 200)

    sender = HttpGatewaySender(
        "http://gateway.invalid/send",
        "bi-mat",
        client=httpx.Client(transport=httpx.MockTransport(gateway)),
    )
    ok = sender.queue(db, "+84912345678", "Mã của bạn là 123456", "sign_in_code", T0)
    bad = sender.queue(db, "+84912345679", "Mã của bạn là 654321", "sign_in_code", T0)
    assert ok.status == bad.status == "queued"
    assert sender.deliver_pending(db, T0) == 1
    assert [r["phone"] for r in received] == ["+84912345678", "+84912345679"]
    assert received[0]["message"] == "Mã của bạn là 123456"
    assert (ok.status, ok.sent_at) == ("sent", T0)
    assert bad.status == "failed" and "503" in (bad.error or "")
    # Sent messages are not sent again.
    assert sender.deliver_pending(db, T0) == 0
    assert len(received) == 2
