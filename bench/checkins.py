"""Benchmark: check-ins over HTTP and in batches, beside the raw figures measured in the same run.

    python bench/checkins.py                         # SQLite, and PostgreSQL if a URL is given
    python bench/checkins.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    python bench/checkins.py --quick                 # smaller runs, for a try

Raw baselines (what the hardware and the drivers give):
- a bare FastAPI endpoint that inserts one row into SQLite and commits, per request;
- SQLite executemany into a visits-like table with the two indexes a visits table needs;
- PostgreSQL single-row commits, and COPY into the same table.
The platform, each against its own fresh migrated database, served by `uvicorn` on loopback:
- a single staff-device scan over HTTP: bearer token, personal-QR check, duplicate check, the
  check-out rules, visit insert, its place in the counting queue, commit. "first visits": each
  person's first scan here today, with a code as issued (found by its recorded digest, no
  signature check); "next visits": the same people 3 h later, each closing the visit before;
  "codes checked by signature": codes without a recorded digest (issued before digests were
  kept), each new to the server, so each pays an Ed25519 check;
- p99 latency of single scans sent at a steady 1,000 per second;
- device batches of 2,000 scans, the same three cases, on SQLite and on PostgreSQL.
- beside them, the batch path's insert alone (executemany / COPY into the platform's own visits
  table, no rules): not the issue's baseline, but it shows what the schema's indexes and
  foreign keys cost before any rule runs; and the batch path's statements alone (every look-up
  a batch makes, the insert, its queue entries and the commit, with all values prepared
  beforehand): the floor under any implementation that makes those checks, which a ratio
  target above it cannot be met through.
Closed-loop HTTP figures (bare endpoint, single scans) come from wrk (`apt-get install -y wrk`):
one C thread with 16 keep-alive connections for a fixed time, each request its own code and
client id, so that the client takes one core and the server the other. Paced latency and the
batches use the asyncio client of bench/loadgen.py (it keeps up with 1,000/s and with batches).
Single scans run in rounds, each the bare endpoint then the platform's three cases, and each
case's share of the bare endpoint is taken round by round: this machine's speed drifts by a
quarter within a minute, so only runs side by side compare; for the same reason each batch
case is also compared with its raw figure measured again just before it. The load average is
printed before and after: figures taken while other work runs are not comparable.
Every loop is bounded; the load generators run in their own processes (bench/loadgen.py).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import bench_database, insert_venues, server_url
from loadgen import WrkResult, request_bytes, run_load, run_wrk, wrk_path
from pydantic import BaseModel
from sqlalchemy import Engine, insert, text
from sqlalchemy.orm import Session

from phongdich.audit.service import Actor
from phongdich.auth.roles import Role
from phongdich.auth.service import CLI_PRINCIPAL
from phongdich.auth.tokens import create_api_token
from phongdich.checkins import rows as visit_rows
from phongdich.checkins.batch import _insert_visits, _timelines
from phongdich.core import signing
from phongdich.core.text import fold
from phongdich.db import Raw
from phongdich.models import Person, PersonQrCode
from phongdich.people.personal_qr import _codes_by_digest, token_digest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RAW_TABLE = """CREATE TABLE visits (id INTEGER PRIMARY KEY, person_id INTEGER NOT NULL,
venue_id INTEGER NOT NULL, checked_in_at TIMESTAMP NOT NULL, source VARCHAR(20) NOT NULL,
client_scan_id VARCHAR(64))"""
RAW_INDEXES = (
    "CREATE INDEX ix_v_venue ON visits (venue_id, checked_in_at)",
    "CREATE INDEX ix_v_person ON visits (person_id, checked_in_at)",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# The bare endpoint: what FastAPI + one SQLite insert and commit cost, nothing of ours.


class BareBody(BaseModel):
    venue_id: int
    code: str
    client_scan_id: str


def bare_app() -> Any:
    """One async endpoint, one SQLite connection, one insert and commit per request: what
    FastAPI and SQLite give at best in one process (a sync endpoint would cross to a worker
    thread and back for each request and measure the thread pool instead)."""
    from fastapi import FastAPI

    conn = sqlite3.connect(os.environ["BENCH_BARE_DB"], isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    app = FastAPI()

    @app.post("/scan")
    async def scan(body: BareBody) -> dict[str, str]:
        conn.execute("BEGIN")
        conn.execute(
            "INSERT INTO visits (person_id, venue_id, checked_in_at, source, client_scan_id) "
            "VALUES (?, ?, ?, 'bare', ?)",
            (len(body.code), body.venue_id, datetime.now(UTC).isoformat(), body.client_scan_id),
        )
        conn.execute("COMMIT")
        return {"outcome": "created"}

    return app


def platform_app() -> Any:
    from phongdich.config import Settings
    from phongdich.web.app import create_app

    return create_app(Settings(_env_file=None), run_jobs=False)  # type: ignore[call-arg]


class Uvicorn:
    def __init__(self, factory: str, env: dict[str, str]) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(  # noqa: S603  (our interpreter, our module)
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                factory,
                "--app-dir",
                str(HERE),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            cwd=ROOT,
            env={**os.environ, **env},
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not start") from None
                time.sleep(0.1)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def _fresh_raw_sqlite() -> str:
    path = str(Path(tempfile.mkdtemp(prefix="phongdich-bench-raw-")) / "raw.sqlite3")
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(RAW_TABLE)
    for ddl in RAW_INDEXES:
        conn.execute(ddl)
    conn.commit()
    conn.close()
    return path


class BareEndpoint:
    """The bare endpoint's server, kept up so that its runs can alternate with the platform's:
    this machine's speed drifts by a quarter within a minute, so a ratio is only fair between
    runs taken side by side."""

    def __init__(self, n: int) -> None:
        self.server = Uvicorn("checkins:bare_app", {"BENCH_BARE_DB": _fresh_raw_sqlite()})
        self.requests = [
            request_bytes(
                "/scan",
                json.dumps(
                    {"venue_id": 1, "code": "x" * (i % 50), "client_scan_id": f"c{i}"}
                ).encode(),
            )
            for i in range(n)
        ]
        run_wrk(self.server.port, self.requests[:500], seconds=1)  # warm up

    def run(self, seconds: float) -> WrkResult:
        return run_wrk(self.server.port, self.requests[500:], seconds=seconds)

    def stop(self) -> None:
        self.server.stop()


def bench_raw_sqlite_executemany(n: int, batch: int = 2000) -> float:
    conn = sqlite3.connect(_fresh_raw_sqlite())
    conn.execute("PRAGMA synchronous=NORMAL")
    base = datetime(2021, 11, 15, tzinfo=UTC)
    rows = [
        (i % 50_000, i % 200, (base + timedelta(seconds=i)).isoformat(), "raw", f"c{i}")
        for i in range(n)
    ]
    started = time.perf_counter()
    for i in range(0, n, batch):
        conn.executemany(
            "INSERT INTO visits (person_id, venue_id, checked_in_at, source, client_scan_id) "
            "VALUES (?, ?, ?, ?, ?)",
            rows[i : i + batch],
        )
        conn.commit()
    seconds = time.perf_counter() - started
    conn.close()
    return n / seconds


def bench_pg_raw(server: str, single: int, copied: int) -> tuple[float, float]:
    """(single-row commits per second, COPY rows per second) into a fresh database."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(server)
    name = f"phongdich_bench_raw_{os.getpid()}"
    dsn = f"host={url.host} port={url.port or 5432} user={url.username} dbname={url.database}"
    if url.password:
        dsn += f" password={url.password}"
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(dsn.replace(f"dbname={url.database}", f"dbname={name}")) as conn:
            conn.execute(
                RAW_TABLE.replace("INTEGER PRIMARY KEY", "BIGSERIAL PRIMARY KEY").replace(
                    "TIMESTAMP", "TIMESTAMPTZ"
                )
            )
            for ddl in RAW_INDEXES:
                conn.execute(ddl)
            conn.commit()
            now = datetime.now(UTC)
            started = time.perf_counter()
            for i in range(single):
                conn.execute(
                    "INSERT INTO visits (person_id, venue_id, checked_in_at, source, "
                    "client_scan_id) VALUES (%s, %s, %s, 'raw', %s)",
                    (i, i % 200, now, f"s{i}"),
                )
                conn.commit()
            single_rate = single / (time.perf_counter() - started)
            rows = [
                (i % 50_000, i % 200, now + timedelta(seconds=i), "copy", f"c{i}")
                for i in range(copied)
            ]
            started = time.perf_counter()
            with (
                conn.cursor() as cur,
                cur.copy(
                    "COPY visits (person_id, venue_id, checked_in_at, source, client_scan_id) "
                    "FROM STDIN"
                ) as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            conn.commit()
            copy_rate = copied / (time.perf_counter() - started)
    finally:
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return single_rate, copy_rate


def bench_schema_insert(engine: Engine, n: int, batch: int = 2000) -> float:
    """Rows per second of the batch path's own insert with nothing else: new visits of existing
    people, in batches of `batch` committed one by one, by executemany on SQLite and COPY on
    PostgreSQL, into the platform's visits table with its indexes and foreign keys. Not the
    issue's baseline; it shows what the schema itself costs. Run after the platform's runs."""
    with engine.connect() as conn:
        raw = Raw(conn)
        people = [pid for (pid,) in raw.run("SELECT id FROM people ORDER BY id")]
        venue, token = raw.run("SELECT min(venue_id), min(device_token_id) FROM visits")[0]
        now = datetime.now(UTC)
        rows = [
            (people[i % len(people)], venue, None, "device_batch", *(raw.time_in(
                now - timedelta(days=3, seconds=i)),) * 2, None, None, 60, None, token,
             f"schema{i}", raw.time_in(now))
            for i in range(n)
        ]  # fmt: skip
        conn.commit()
        started = time.perf_counter()
        for i in range(0, n, batch):
            chunk = rows[i : i + batch]
            if raw.sqlite:
                raw.many(visit_rows.INSERT_SQL, chunk)
            else:
                driver: Any = conn.connection.driver_connection
                sql = f"COPY visits ({visit_rows.NEW_COLUMNS}) FROM STDIN"
                with driver.cursor() as cur, cur.copy(sql) as copy:
                    for row in chunk:
                        copy.write_row(row)
            conn.commit()
        return n / (time.perf_counter() - started)


def bench_batch_statements(
    engine: Engine,
    venue_id: int,
    tokens: list[str],
    raw_batch: Callable[[], float] | None,
    *,
    rounds: int = 3,
    batch: int = 2000,
) -> list[tuple[float, float | None]]:
    """Scans per second of the batch path's database statements alone, for first visits of
    `tokens` (people with no visit in the last day): per batch, the codes found by digest, the
    device's known client ids, the people's recent visits, the insert with its counting-queue
    entries (`checkins.batch`'s own functions and statements), and the commit. Every value is
    prepared beforehand, so no Python work of the platform's is timed: the floor under any
    implementation that makes these checks. In `rounds`, each with the raw figure measured
    just before it; run after the platform's runs."""
    now = datetime.now(UTC)
    at = now - timedelta(minutes=30)
    with Session(engine) as session:
        raw = Raw(session.connection())
        token_id = raw.run("SELECT max(id) FROM api_tokens")[0][0]
        digests = [token_digest(t) for t in tokens]
        person_of: dict[bytes, int] = {}
        for i in range(0, len(digests), 500):
            sql, values = _codes_by_digest(raw, digests[i : i + 500])
            person_of.update((bytes(d), p) for d, p, *_ in raw.run(sql, *values))
        session.commit()
        prepared = []
        for start in range(0, len(tokens), batch):
            chunk = digests[start : start + batch]
            ids = [f"floor{start + j}" for j in range(len(chunk))]
            people = [person_of[d] for d in chunk]
            rows = visit_rows.opened_values(
                raw,
                [(p, venue_id, None, at, 60, cid) for p, cid in zip(people, ids, strict=True)],
                source="device_batch",
                recorded_by_id=None,
                device_token_id=token_id,
                received=raw.time_in(now),
            )
            prepared.append((chunk, ids, sorted(set(people)), rows))
        out = []
        share = max(1, len(prepared) // rounds)
        for r in range(rounds):
            part = prepared[r * share : (r + 1) * share]
            adjacent = raw_batch() if raw_batch is not None else None
            started = time.perf_counter()
            for chunk, ids, people, rows in part:
                raw = Raw(session.connection())
                for i in range(0, len(chunk), 500):
                    sql, values = _codes_by_digest(raw, chunk[i : i + 500])
                    raw.run(sql, *values)
                    sql, values = visit_rows.of_device(
                        raw, "v.client_scan_id", token_id, ids[i : i + 500]
                    )
                    raw.run(sql, *values)
                _timelines(raw, people, at)
                _insert_visits(session, raw, token_id, rows, ids)
                session.commit()
            scans = sum(len(chunk) for chunk, *_ in part)
            out.append((scans / (time.perf_counter() - started), adjacent))
        return out


# The platform's data: one venue, a scanner token for it, many people with personal QR codes.


def make_people(session: Session, n: int, now: datetime, without_digest: int = 0) -> list[str]:
    """n people with a current personal QR each (bulk inserted); returns their tokens. The last
    `without_digest` codes have no recorded digest, like codes issued before digests were kept:
    every scan of them needs a signature check."""
    signer = signing.signer_for(session, "person_qr", now=now)
    ids: list[int] = []
    for start in range(0, n, 5000):
        rows = [
            {
                "id_type": "none",
                "full_name": f"Người thử {i}",
                "name_folded": fold(f"Nguoi thu {i}"),
                "nationality": "VN",
                "created_at": now,
                "created_via": "staff",
                "qr_serial": 1,
                "birth_year": 1950 + i % 60,
            }
            for i in range(start, min(start + 5000, n))
        ]
        ids += session.scalars(
            insert(Person).returning(Person.id, sort_by_parameter_order=True), rows
        ).all()
    # As `personal_qr` issues them: the token, and its digest on the code's record.
    tokens = [signer.sign({"p": pid, "s": 1}, now=now) for pid in ids]
    session.execute(
        insert(PersonQrCode),
        [
            {
                "person_id": pid,
                "serial": 1,
                "kid": signer.kid,
                "issued_at": now,
                "token_digest": token_digest(token) if i < n - without_digest else None,
            }
            for i, (pid, token) in enumerate(zip(ids, tokens, strict=True))
        ],
    )
    return tokens


def setup_platform(
    engine: Engine, people: int, without_digest: int = 0
) -> tuple[int, str, list[str]]:
    now = datetime.now(UTC)
    with Session(engine) as session:
        venue_id = insert_venues(session, 1, now)[0]
        secret, _ = create_api_token(
            session,
            Actor(CLI_PRINCIPAL),
            now=now,
            name="Máy quét thử",
            role=Role.VENUE_STAFF,
            object_type="venue",
            object_id=venue_id,
        )
        tokens = make_people(session, people, now, without_digest)
        session.commit()
    add_history(engine, HISTORY, now)
    return venue_id, secret, tokens


# A platform in use has weeks of check-ins: the scans measured here go into tables that hold
# them (older than a day, so no rule reads them) and the venue's visitors, with the planner's
# statistics up to date, as autovacuum keeps them. Into empty tables PostgreSQL plans for no
# rows (scans with 500-value IN lists), and those plans are kept as the tables fill.
HISTORY = 300_000


def add_history(engine: Engine, n: int, now: datetime) -> None:
    pg = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        first, last = conn.execute(text("SELECT min(id), max(id) FROM people")).one()
        venue = conn.execute(text("SELECT min(id) FROM venues")).scalar_one()
        end = int(now.timestamp()) - 2 * 86_400
        if pg:
            rows, at = "generate_series(1, :n) AS x", f"to_timestamp({end} - x * 7)"
            prefix = ""
        else:
            rows = "cnt"
            at = f"strftime('%Y-%m-%d %H:%M:%f000', {end} - x * 7, 'unixepoch')"
            prefix = (
                "WITH RECURSIVE cnt(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM cnt WHERE x < :n) "
            )
        conn.execute(
            text(
                f"{prefix}INSERT INTO visits (person_id, venue_id, source, checked_in_at, "  # noqa: S608
                "last_seen_at, checked_out_at, end_rule, default_stay_minutes, received_at) "
                f"SELECT {first} + x % {last - first + 1}, {venue}, 'citizen_scan', {at}, {at}, "
                f"{at}, 'explicit', 60, {at} FROM {rows}"
            ),
            {"n": n},
        )
        # ... and knows the people who came before (the venue's visitor rows).
        day = "max(checked_in_at)::date" if pg else "max(date(checked_in_at))"
        conn.execute(
            text(
                "INSERT INTO venue_visitors (venue_id, person_key, last_day) "  # noqa: S608
                f"SELECT venue_id, CAST(person_id AS TEXT), {day} FROM visits "
                "GROUP BY venue_id, person_id"
            )
        )
    if pg:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def scan_requests(
    venue_id: int, secret: str, tokens: list[str], prefix: str, at: datetime
) -> list[bytes]:
    auth = {"Authorization": f"Bearer {secret}"}
    return [
        request_bytes(
            "/api/v1/checkins/scan",
            json.dumps(
                {
                    "venue_id": venue_id,
                    "code": t,
                    "client_scan_id": f"{prefix}{i}",
                    "at": at.isoformat(),
                }
            ).encode(),
            auth,
        )
        for i, t in enumerate(tokens)
    ]


def batch_requests(
    venue_id: int, secret: str, tokens: list[str], size: int, at: datetime, prefix: str = "b"
) -> list[bytes]:
    auth = {"Authorization": f"Bearer {secret}"}
    out = []
    for start in range(0, len(tokens), size):
        rows = [
            {
                "client_scan_id": f"{prefix}{start + j}",
                "code": t,
                "at": at.isoformat(),
                "venue_id": venue_id,
            }
            for j, t in enumerate(tokens[start : start + size])
        ]
        out.append(
            request_bytes("/api/v1/checkins/batch", json.dumps({"scans": rows}).encode(), auth)
        )
    return out


def count_visits(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM visits")).scalar_one())


def bench_platform(
    engine: Engine,
    *,
    singles: int,
    batch_scans: int,
    batch_size: int,
    p99: bool,
    seconds: float = 4.0,
    bare: BareEndpoint | None = None,
    rounds: int = 3,
    raw_batch: Callable[[], float] | None = None,
) -> dict[str, Any]:
    """Single scans: `singles` people with digests, as many without; batches: `batch_scans`
    people with digests, a third as many without, and as many again for the batch path's
    statements alone (`bench_batch_statements`)."""
    signed_batch = batch_scans // 3
    venue_id, secret, tokens = setup_platform(
        engine,
        2 * singles + 2 * batch_scans + signed_batch,
        without_digest=singles + signed_batch,
    )
    history = count_visits(engine)
    statement_tokens, tokens = tokens[:batch_scans], tokens[batch_scans:]
    single_tokens = tokens[:singles]
    batch_tokens = tokens[singles : singles + batch_scans]
    single_signed = tokens[singles + batch_scans : 2 * singles + batch_scans]
    batch_signed = tokens[2 * singles + batch_scans :]
    server = Uvicorn(
        "checkins:platform_app",
        {"PHONGDICH_DATABASE_URL": str(engine.url.render_as_string(hide_password=False))},
    )
    out: dict[str, Any] = {}
    try:
        now = datetime.now(UTC)
        if singles:
            warmup = scan_requests(
                venue_id, secret, single_tokens[:300], "w", now - timedelta(hours=9)
            )
            run_wrk(server.port, warmup, seconds=1)
            # Each round: the bare endpoint, then first visits (people of the round's own),
            # next visits (the same people 3 h later: a new visit that closes the one before;
            # a shorter run, so that they do not run out), and codes checked by signature.
            share, signed_share = len(single_tokens) // rounds, len(single_signed) // rounds
            runs: dict[str, list[WrkResult]] = {"bare": [], "first": [], "next": [], "signed": []}
            for r in range(rounds):
                if bare is not None:
                    runs["bare"].append(bare.run(seconds))
                people = single_tokens[r * share : (r + 1) * share]
                first = run_wrk(
                    server.port,
                    scan_requests(venue_id, secret, people, f"c{r}-", now - timedelta(hours=6)),
                    seconds=seconds,
                )
                runs["first"].append(first)
                seen = people[: min(first.requests, share)]
                runs["next"].append(
                    run_wrk(
                        server.port,
                        scan_requests(venue_id, secret, seen, f"h{r}-", now - timedelta(hours=3)),
                        seconds=max(1.0, seconds - 1),
                    )
                )
                signed = single_signed[r * signed_share : (r + 1) * signed_share]
                runs["signed"].append(
                    run_wrk(
                        server.port,
                        scan_requests(venue_id, secret, signed, f"s{r}-", now - timedelta(hours=6)),
                        seconds=seconds,
                    )
                )
            out.update(single_runs=runs, single_stored=count_visits(engine) - history)
            if p99:
                n = min(len(single_tokens), 5000)
                paced = run_load(
                    server.port,
                    scan_requests(
                        venue_id, secret, single_tokens[:n], "p", now - timedelta(minutes=30)
                    ),
                    connections=32,
                    rate=1000.0,
                )
                out["paced"] = paced
        if batch_scans:
            # First visits, the same people 3 h later, then codes checked by signature.
            for key, people, hours, prefix in (
                ("batch_first", batch_tokens, 4, "b"),
                ("batch_next", batch_tokens, 1, "r"),
                ("batch_signed", batch_signed, 4, "g"),
            ):
                reqs = batch_requests(
                    venue_id, secret, people, batch_size, now - timedelta(hours=hours), prefix
                )
                # The raw figure again, just before: this machine drifts within minutes.
                adjacent = raw_batch() if raw_batch is not None else None
                before = count_visits(engine)
                result = run_load(server.port, reqs, connections=2)
                stored = count_visits(engine) - before
                out[key] = (result, stored, len(people) / result.seconds, adjacent)
    finally:
        server.stop()
    if batch_scans:
        out["schema_insert"] = bench_schema_insert(engine, batch_scans)
        out["statements"] = bench_batch_statements(engine, venue_id, statement_tokens, raw_batch)
    return out


SINGLE_CASES = (
    ("first", "first visits"),
    ("next", "next visits"),
    ("signed", "codes checked by signature"),
)
BATCH_CASES = (
    ("batch_first", "first visits"),
    ("batch_next", "next visits"),
    ("batch_signed", "codes checked by signature"),
)


def line(label: str, value: float, unit: str, note: str = "") -> None:
    print(f"  {label:<58} {value:>12,.0f} {unit:<8} {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--postgres", help="PostgreSQL server URL (or PHONGDICH_BENCH_DATABASE_URL)"
    )
    parser.add_argument("--quick", action="store_true", help="smaller runs")
    args = parser.parse_args()
    scale = 0.25 if args.quick else 1.0
    seconds = 2.0 if args.quick else 3.0
    # Enough people that no single-scan run repeats a request (a repeat is a cheap duplicate):
    # three rounds of up to 5,000 scans/s.
    singles, batch_scans = int(3 * 5_000 * seconds), int(60_000 * scale)
    wrk_path()  # installed, or say how to install it before anything runs
    _print_load("before")

    print("SQLite (closed-loop HTTP by wrk: 1 thread, 16 connections)")
    # The raw figures depend on how many rows go in (bigger indexes, slower inserts): every
    # measure of one uses the same count.
    raw_rows, copied = int(200_000 * scale), int(300_000 * scale)
    raw_many = bench_raw_sqlite_executemany(raw_rows)
    line("raw SQLite executemany, two indexes", raw_many, "rows/s")
    bare_server = BareEndpoint(int(60_000 * scale))
    try:
        with bench_database(None) as engine:
            res = bench_platform(
                engine,
                singles=singles,
                batch_scans=batch_scans,
                batch_size=2000,
                p99=True,
                seconds=seconds,
                bare=bare_server,
                raw_batch=lambda: bench_raw_sqlite_executemany(raw_rows),
            )
    finally:
        bare_server.stop()
    runs, paced = res["single_runs"], res["paced"]
    bares = runs["bare"]
    bare_rate = statistics.median(b.rate for b in bares)
    print(
        f"  {len(bares)} rounds of {seconds:.0f} s runs, each: the bare endpoint, then the "
        "platform's three cases"
    )
    line(
        "bare FastAPI endpoint, one insert + commit per request",
        bare_rate,
        "req/s",
        "median; rounds: "
        + ", ".join(f"{b.rate:,.0f}" for b in bares)
        + f" ({sum(b.errors for b in bares)} errors)",
    )
    for key, label in SINGLE_CASES:
        results = runs[key]
        ratios = [x.rate / b.rate for x, b in zip(results, bares, strict=True)]
        target = "; target ≥ 3,000/s and ≥ 50 %" if key == "first" else ""
        line(
            f"platform single scan, {label}",
            statistics.median(x.rate for x in results),
            "req/s",
            f"{statistics.median(ratios):.0%} of bare (rounds: "
            f"{', '.join(f'{q:.0%}' for q in ratios)}){target}; "
            f"{sum(x.errors for x in results)} errors{_wrapped(*results)}",
        )
    acknowledged = sum(x.requests for k in ("first", "next", "signed") for x in runs[k])
    print(
        f"  {'visits stored by the single-scan runs':<58} {res['single_stored']:>12,} "
        f"(acknowledged: {acknowledged:,}; plus the warm-up's, and up to 16 a run answered "
        "after wrk stopped counting)"
    )
    print(
        f"  {'single scans at 1,000/s: p50 / p99 latency':<58} "
        f"{paced.percentile(50):>9.1f} ms / {paced.percentile(99):.1f} ms  "
        f"(target p99 ≤ 50 ms; achieved {paced.rate:,.0f}/s, {paced.errors} errors)"
    )
    _report_batches(res, raw_many, "raw executemany; target ≥ 40,000 and ≥ 50 %")

    pg = server_url(args.postgres)
    if pg:
        print("PostgreSQL")
        single_rate, copy_rate = bench_pg_raw(pg, int(10_000 * scale), copied)
        line("raw single-row commits", single_rate, "rows/s")
        line("raw COPY, two indexes", copy_rate, "rows/s")
        with bench_database(pg) as engine:
            res = bench_platform(
                engine,
                singles=int(3 * 1_500 * seconds),  # PostgreSQL scans run slower
                batch_scans=batch_scans,
                batch_size=2000,
                p99=False,
                seconds=seconds,
                raw_batch=lambda: bench_pg_raw(pg, 0, copied)[1],
            )
        for key, label in SINGLE_CASES:
            results = res["single_runs"][key]
            rate = statistics.median(x.rate for x in results)
            line(
                f"platform single scan, {label}",
                rate,
                "req/s",
                f"median of {len(results)}; {rate / single_rate:.0%} of raw single-row commits "
                f"({sum(x.errors for x in results)} errors{_wrapped(*results)})",
            )
        _report_batches(res, copy_rate, "COPY; target ≥ 50 %")
    _print_load("after")


def _report_batches(res: dict[str, Any], raw: float, against: str) -> None:
    schema = res["schema_insert"]
    for key, label in BATCH_CASES:
        batch, stored, rate, adjacent = res[key]
        beside = (
            f"; {rate / adjacent:.0%} of the raw figure measured just before it "
            f"({adjacent:,.0f} rows/s)"
            if adjacent
            else ""
        )
        line(
            f"platform batch upload, {label}",
            rate,
            "scans/s",
            f"{rate / raw:.0%} of {against}{beside}; {rate / schema:.0%} of the bare insert "
            f"below (stored {stored:,}, {batch.errors} errors)",
        )
    line(
        "bare insert into the platform's visits table (no rules)",
        schema,
        "rows/s",
        f"{schema / raw:.0%} of the raw figure (its own indexes and foreign keys included)",
    )
    rounds = res["statements"]
    rate = statistics.median(r for r, _ in rounds)
    shares = [r / a for r, a in rounds if a]
    beside = (
        f"; {statistics.median(shares):.0%} of the raw figure measured just before each "
        f"(rounds: {', '.join(f'{q:.0%}' for q in shares)})"
        if shares
        else ""
    )
    line(
        "the batch path's statements alone, values prepared",
        rate,
        "scans/s",
        f"median of {len(rounds)}; {rate / raw:.0%} of the raw figure{beside}: look-ups by "
        "digest, known ids, recent visits, insert, counting queue, commit; no Python work",
    )


def _print_load(when: str) -> None:
    one, five, fifteen = os.getloadavg()
    print(f"load average {when}: {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores")


def _wrapped(*results: WrkResult) -> str:
    """A warning when a run repeated its requests: the figure then counts cheap duplicates."""
    wraps = sum(r.wrapped for r in results)
    return f"; RAN OUT of distinct requests {wraps}x: figure not valid" if wraps else ""


if __name__ == "__main__":
    main()
