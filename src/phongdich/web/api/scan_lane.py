"""The scan lane: `POST /api/v1/checkins/scan` from a venue's scanner device, served in front of
the whole application.

A device scan is the platform's most frequent request, and the framework's share of it was most
of its cost: matching the path against every route of the app took ~450 µs, and the request's
dependencies and endpoint each crossed to a worker thread and back. The lane answers the common
case (a bearer token held for the venue, a personal QR) straight from the ASGI call with the scan
desk (`checkins.desk`), and hands everything else, body and all, to the documented FastAPI route
(`web.api.checkins.scan`), which gives the same answers by the general path.

The lane stands in front of the app's middleware too (`web.app.App.__call__`): the six layers
of error handling, size limit, locale and headers cost ~50 µs a scan, a sixth of the whole. So
it does their part itself: its answers carry the same security headers, a body over the size
limit (or of unstated length) is left to the app, which refuses it, and an unexpected error is
logged and answered with the API's 500 error.

On SQLite the desk runs on the event loop itself: SQLite takes one writer at a time, a scan's
statements take tens of microseconds, and a thread hand-off would cost more than the work. On
PostgreSQL it runs in a worker thread, as the database answers over a socket.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from anyio import to_thread
from pydantic import ValidationError
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from phongdich.auth.tokens import read_token, touch_token
from phongdich.checkins import desk
from phongdich.checkins.schemas import PersonBrief, ScanRequest, ScanResult
from phongdich.core.errors import AppError
from phongdich.web.middleware import SERVER_ERROR, error_body, send_json

PATH = "/api/v1/checkins/scan"
_SERVER_ERROR = error_body(*SERVER_ERROR)
log = logging.getLogger(__name__)


class ScanLane:
    def __init__(self, app: ASGIApp, state: Any, max_body_bytes: int) -> None:
        self.app = app
        self.state = state  # the FastAPI app's state: session factory, clock
        self.max_body_bytes = max_body_bytes
        self._own: Connection | None = None  # SQLite only: see `_transaction`

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        secret, length = _bearer_and_length(scope)
        if secret is None or length is None or length > self.max_body_bytes:
            await self.app(scope, receive, send)  # refused there, or the general path
            return
        body = await _read_body(receive)
        try:
            request = ScanRequest.model_validate_json(body)
        except ValidationError:
            request = None  # the route's validation answers in the API's error shape
        answer = None
        if request is not None:
            try:
                answer = await self._answer(secret, request)
            except AppError as err:
                refusal = error_body(err.code, err.message, err.details)
                await send_json(send, err.status, refusal, secure=True)
                return
            except Exception:
                log.exception("unhandled error on %s", PATH)
                await send_json(send, 500, _SERVER_ERROR, secure=True)
                return
        if answer is None:
            await self.app(scope, _replay(body, receive), send)
            return
        await send_json(send, 200, answer, secure=True)

    @property
    def sqlite(self) -> bool:
        # The factory's bind: the engine, or in tests the connection every session joins.
        return bool(self.state.session_factory.kw["bind"].dialect.name == "sqlite")

    async def _answer(self, secret: str, request: ScanRequest) -> bytes | None:
        if self.sqlite:
            return self._run(secret, request)
        return await to_thread.run_sync(self._run, secret, request)

    def _run(self, secret: str, request: ScanRequest) -> bytes | None:
        """The JSON answer, or None for the general path. Two copies of a retried scan that
        race each other meet the unique (device, client scan id) key: the loser runs again
        and finds the winner's visit."""
        for attempt in (1, 2):
            try:
                return self._once(secret, request)
            except desk.NotForTheDesk:
                return None
            except IntegrityError:
                if attempt == 2:
                    raise
        return None

    def _once(self, secret: str, request: ScanRequest) -> bytes | None:
        now = self.state.clock.now()
        with self._transaction() as conn:
            hit = read_token(conn, secret)
            if hit is None:
                return None  # the general path refuses it in its own words
            done = desk.scan(
                conn,
                hit.principal,
                venue_id=request.venue_id,
                code=request.code,
                now=now,
                at=request.at,
                location_id=request.location_id,
                client_scan_id=request.client_scan_id,
            )
            if hit.needs_touch(now):
                touch_token(conn, hit.token_id, now)
        result = ScanResult(
            outcome=done.outcome,
            visit_id=done.visit_id,
            person=PersonBrief(
                id=done.person_id, full_name=done.full_name, birth_year=done.birth_year
            ),
        )
        return result.model_dump_json().encode()

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """A connection in a transaction, committed at the end, rolled back on any exception
        (`NotForTheDesk` included: the general path starts afresh).

        A connection straight from the engine: an ORM session around it cost ~200 µs more
        per scan here, for nothing the desk uses. A session factory bound to one connection
        (the tests', to roll each test back) gets a session, so that commits stay savepoints.
        """
        factory = self.state.session_factory
        bind = factory.kw["bind"]
        if isinstance(bind, Engine):
            if self.sqlite:
                # On SQLite the lane runs on the event loop alone, one scan at a time: a
                # connection of its own, kept, saves the pool's checkout and return (~70 µs).
                self._own = self._own or bind.connect()
                with self._own.begin():
                    yield self._own
                return
            # Begun explicitly: the desk runs on the driver's cursor, so SQLAlchemy would
            # never begin (nor commit) a transaction of its own.
            with bind.connect() as conn, conn.begin():
                yield conn
            return
        with factory() as session:
            try:
                yield session.connection()
            except BaseException:
                session.rollback()
                raise
            session.commit()


def _bearer_and_length(scope: Scope) -> tuple[str | None, int | None]:
    """The bearer token and the stated body length, each None when absent or unusable."""
    secret = length = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            text = value.decode("latin-1")
            if text[:7].lower() == "bearer ":
                secret = text[7:].strip()
        elif name == b"content-length" and value.isdigit():
            length = int(value)
    return secret, length


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
