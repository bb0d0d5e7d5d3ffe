"""A scanner keeps sending while the server process is killed and restarted: every scan is
retried until acknowledged, and exactly one visit per scan is stored, none twice."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from phongdich.audit.service import Actor
from phongdich.auth.roles import Role
from phongdich.auth.service import CLI_PRINCIPAL
from phongdich.auth.tokens import create_api_token
from phongdich.core.clock import SystemClock
from phongdich.models import Visit
from tests.checkins.factories import citizen_with_person, qr_of, venue
from tests.conftest import FreshDatabase, migrated_engine

ROOT = Path(__file__).resolve().parents[2]
SINGLE, BATCHED = 120, 60  # scans sent one by one, and in batches of 15
KILLS = 4


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`uvicorn` in its own process, killed with SIGKILL (no graceful shutdown) on demand."""

    def __init__(self, url: str, port: int) -> None:
        self.port, self.env = port, {**os.environ, "PHONGDICH_DATABASE_URL": url}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(  # noqa: S603  (our own interpreter and module)
            [sys.executable, "-m", "uvicorn", "--factory", "tests.checkins.serve_app:app",
             "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)


def _setup(session: Session) -> tuple[int, str, list[str]]:
    now = SystemClock().now()
    gate = venue(session)
    secret, _ = create_api_token(
        session, Actor(CLI_PRINCIPAL), now=now, name="Cổng 1", role=Role.VENUE_STAFF,
        object_type="venue", object_id=gate.id,
    )  # fmt: skip
    tokens = [qr_of(session, citizen_with_person(session)[1]) for _ in range(SINGLE + BATCHED)]
    return gate.id, secret, tokens


def _send_until_acknowledged(client: httpx.Client, path: str, body: object, headers: dict) -> dict:
    deadline = time.monotonic() + 60
    while True:
        try:
            r = client.post(path, json=body, headers=headers, timeout=3)
            if r.status_code == 200:
                return r.json()
        except httpx.HTTPError:
            pass  # the server is down or died mid-request: try again
        assert time.monotonic() < deadline, "the server never came back"
        time.sleep(0.05)


def test_every_scan_is_stored_exactly_once_across_server_crashes(
    fresh_database: FreshDatabase,
) -> None:
    engine = migrated_engine(fresh_database)
    try:
        with Session(engine) as session:
            venue_id, secret, tokens = _setup(session)
            session.commit()
        port = _free_port()
        server = Server(fresh_database.url, port)
        server.start()
        stop = threading.Event()
        kills = 0

        def chaos() -> None:
            nonlocal kills
            while not stop.is_set() and kills < KILLS:
                time.sleep(1.5)
                server.kill()
                kills += 1
                time.sleep(0.2)
                server.start()

        killer = threading.Thread(target=chaos)
        killer.start()
        base = SystemClock().now() - timedelta(hours=1)
        headers = {"Authorization": f"Bearer {secret}"}
        outcomes: list[str] = []
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            for i in range(SINGLE):
                body = {"venue_id": venue_id, "code": tokens[i], "client_scan_id": f"one-{i}",
                        "at": (base + timedelta(seconds=i)).isoformat()}  # fmt: skip
                outcomes.append(_send_until_acknowledged(client, "/api/v1/checkins/scan", body,
                                                         headers)["outcome"])  # fmt: skip
                time.sleep(0.02)
            for start in range(0, BATCHED, 15):
                rows = [
                    {"client_scan_id": f"batch-{j}", "code": tokens[SINGLE + j],
                     "at": (base + timedelta(minutes=10, seconds=j)).isoformat(),
                     "venue_id": venue_id}
                    for j in range(start, start + 15)
                ]  # fmt: skip
                out = _send_until_acknowledged(
                    client, "/api/v1/checkins/batch", {"scans": rows}, headers
                )
                assert out["errors"] == []
                assert out["stored"] + out["duplicates"] == 15
        stop.set()
        killer.join()
        server.kill()
        assert kills >= 2, "the server was not killed while scans were being sent"
        assert set(outcomes) <= {"created", "duplicate"}
        with Session(engine) as session:
            stored = session.scalar(select(func.count()).select_from(Visit))
            distinct = session.scalar(select(func.count(func.distinct(Visit.client_scan_id))))
        assert stored == distinct == SINGLE + BATCHED
    finally:
        engine.dispose()
