"""SMS senders: the outbox keeps messages; the HTTP gateway sender delivers queued ones.

The gateway is the one thing here that leaves the machine, so it is faked with an in-process
HTTP transport that records what it was sent.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from phongdich.jobs.registry import periodic_jobs
from phongdich.messaging.sms import MAX_ATTEMPTS, HttpGatewaySender, OutboxSender
from phongdich.models import SmsMessage
from tests.conftest import T0

MINUTE = timedelta(minutes=1)


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
    # A failed delivery is not lost: it waits a minute for another try.
    assert bad.status == "retrying" and "503" in (bad.error or "")
    assert (bad.attempts, bad.next_attempt_at) == (1, T0 + MINUTE)
    # Sent messages are not sent again, and the failed one is not due yet.
    assert sender.deliver_pending(db, T0 + MINUTE / 2) == 0
    assert len(received) == 2


def gateway_failing(times: int) -> tuple[HttpGatewaySender, list[datetime]]:
    """A gateway that refuses the first `times` requests, then takes every message."""
    tries: list[datetime] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        tries.append(datetime.now(UTC))
        return httpx.Response(503 if len(tries) <= times else 200)

    client = httpx.Client(transport=httpx.MockTransport(gateway))
    return HttpGatewaySender("http://gateway.invalid/send", "bi-mat", client=client), tries


def test_a_failed_message_is_tried_again_later_until_it_is_sent(db: Session) -> None:
    sender, tries = gateway_failing(2)
    msg = sender.queue(db, "+84912345678", "Bạn là F1, hãy cách ly", "tracing_notice", T0)
    assert sender.deliver_pending(db, T0) == 0
    assert (msg.status, msg.next_attempt_at) == ("retrying", T0 + MINUTE)
    assert sender.deliver_pending(db, T0 + MINUTE) == 0  # second try fails: wait 2 minutes
    assert (msg.attempts, msg.next_attempt_at) == (2, T0 + 3 * MINUTE)
    assert sender.deliver_pending(db, T0 + 2 * MINUTE) == 0 and len(tries) == 2  # not yet due
    assert sender.deliver_pending(db, T0 + 3 * MINUTE) == 1
    assert (msg.status, msg.sent_at, msg.attempts, msg.error) == ("sent", T0 + 3 * MINUTE, 3, None)
    assert msg.next_attempt_at is None


def test_a_message_is_given_up_after_the_last_try(db: Session) -> None:
    sender, tries = gateway_failing(100)
    msg = sender.queue(db, "+84912345678", "Mã của bạn là 123456", "sign_in_code", T0)
    at = T0
    for attempt in range(1, MAX_ATTEMPTS + 1):
        sender.deliver_pending(db, at)
        assert msg.attempts == attempt
        if attempt < MAX_ATTEMPTS:
            assert msg.status == "retrying" and msg.next_attempt_at is not None
            at = msg.next_attempt_at
    assert (msg.status, msg.next_attempt_at) == ("failed", None) and "503" in (msg.error or "")
    assert at == T0 + 15 * MINUTE  # tried after 1, 2, 4 and 8 minutes
    sender.deliver_pending(db, at + timedelta(days=1))
    assert len(tries) == MAX_ATTEMPTS


def test_the_periodic_job_delivers_what_no_request_did(db: Session) -> None:
    sender, tries = gateway_failing(0)
    msg = sender.queue(db, "+84912345678", "Bạn là F1, hãy cách ly", "tracing_notice", T0)
    assert "messaging.deliver_sms" not in [j.name for j in periodic_jobs()]
    (job,) = [j for j in periodic_jobs(sms_sender=sender) if j.name == "messaging.deliver_sms"]
    assert job.run(db, T0) == {"sent": 1}
    assert msg.status == "sent" and len(tries) == 1
