"""Test fixtures on real databases.

SQLite by default; set PHONGDICH_TEST_DATABASE_URL to a PostgreSQL server URL (any database on
it, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres) and the suite creates a fresh
database there, runs the migrations, and drops it at the end. Each test runs inside a
transaction that is rolled back, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from phongdich.areas.loader import SCHEME_2021, SCHEME_2025, area_rows, load_areas
from phongdich.config import Settings
from phongdich.core.clock import FixedClock
from phongdich.db import make_engine, upgrade
from phongdich.messaging.sms import OutboxSender

SERVER_URL = os.environ.get("PHONGDICH_TEST_DATABASE_URL", "")
CAO_BANG = 4
# 09:00 in Vietnam on 15/11/2021, when the province's request went out.
T0 = datetime(2021, 11, 15, 2, 0, tzinfo=UTC)


class FreshDatabase:
    """A new empty database: a temp SQLite file, or a new database on the PostgreSQL server."""

    def __init__(self) -> None:
        self.name = f"phongdich_test_{os.getpid()}_{secrets.token_hex(4)}"
        if SERVER_URL:
            self.admin_url = make_url(SERVER_URL)
            self.url = self.admin_url.set(database=self.name).render_as_string(hide_password=False)
            admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self.name}"'))
            admin.dispose()
        else:
            self.dir = tempfile.mkdtemp(prefix="phongdich-test-")
            self.url = f"sqlite:///{Path(self.dir) / 'test.sqlite3'}"

    def drop(self) -> None:
        if SERVER_URL:
            admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            admin.dispose()


def migrated_engine(fresh: FreshDatabase, *, with_areas: bool = True) -> Engine:
    """Run the real migrations, then load Cao Bằng's areas (reference data every test shares)."""
    engine = make_engine(fresh.url)
    upgrade(engine)
    if with_areas:
        with Session(engine) as session:
            load_areas(session, area_rows((SCHEME_2021, SCHEME_2025), {CAO_BANG}))
            session.commit()
    return engine


@pytest.fixture(scope="session")
def database() -> Iterator[FreshDatabase]:
    fresh = FreshDatabase()
    yield fresh
    fresh.drop()


@pytest.fixture(scope="session")
def engine(database: FreshDatabase) -> Iterator[Engine]:
    engine = migrated_engine(database)
    yield engine
    engine.dispose()


@pytest.fixture
def fresh_database() -> Iterator[FreshDatabase]:
    """A database of its own, for tests that need real commits across connections."""
    fresh = FreshDatabase()
    yield fresh
    fresh.drop()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()


@pytest.fixture
def factory(connection: Connection) -> sessionmaker[Session]:
    """Sessions whose commits are savepoints inside the test's transaction."""
    return sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )


@pytest.fixture
def db(factory: sessionmaker[Session]) -> Iterator[Session]:
    with factory() as session:
        yield session


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def sms() -> OutboxSender:
    return OutboxSender()


@pytest.fixture
def settings(database: FreshDatabase) -> Settings:
    return Settings(  # type: ignore[call-arg]
        database_url=database.url,
        run_jobs_in_process=False,
        freeze_gc_at_start=False,  # an app per test: frozen objects would pile up
        _env_file=None,
    )


@pytest.fixture
def app(settings: Settings, factory: sessionmaker[Session], clock: FixedClock, sms: OutboxSender):
    from phongdich.web.app import create_app

    return create_app(
        settings, session_factory=factory, clock=clock, sms_sender=sms, run_jobs=False
    )


@pytest.fixture
def client(app) -> Iterator[object]:
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="http://testserver") as c:
        yield c
