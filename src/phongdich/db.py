"""Engine and session factories, the declarative base and its naming convention."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)

# Stable constraint names, so Alembic can drop and alter them on every backend (SQLite too).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always UTC and tz-aware in Python, whatever the backend stores.

    SQLite has no time zone type and hands back naive values; PostgreSQL's timestamptz does.
    Refusing naive datetimes on the way in catches local times leaking into storage.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Raw:
    """Plain SQL on the driver's own connection under a SQLAlchemy connection, for the few hot
    paths (a device's scan) where SQLAlchemy's work per statement (~20 µs here) is several times
    the statement's own (~5 µs). SQL is written with `?` placeholders and converted for
    PostgreSQL; values cross as the `UTCDateTime` and `Date` columns store them (SQLite: text in
    SQLAlchemy's format, naive UTC; PostgreSQL: timestamptz and date)."""

    def __init__(self, conn: Connection) -> None:
        dbapi = conn.connection.driver_connection
        assert dbapi is not None
        self.cursor = dbapi.cursor()
        self.sqlite = conn.dialect.name == "sqlite"

    def run(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        if not self.sqlite:
            sql = _pg_sql(sql)
        self.cursor.execute(sql, params)
        return list(self.cursor.fetchall()) if self.cursor.description else []

    def many(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        """One statement for many rows (psycopg sends them as a pipeline)."""
        if rows:
            self.cursor.executemany(sql if self.sqlite else _pg_sql(sql), rows)

    @staticmethod
    def marks(n: int) -> str:
        """`?, ?, …` for n values."""
        return ", ".join("?" * n)

    def one_of(self, column: str, values: Sequence[Any]) -> tuple[str, tuple[Any, ...]]:
        """`column` is one of `values`: on PostgreSQL one array parameter (`= ANY(?)`), so the
        statement text, its prepared statement and its plan are the same whatever the count
        (an IN list of 500 placeholders got a generic plan that was sometimes very slow);
        an IN list of placeholders on SQLite."""
        if self.sqlite:
            return f"{column} IN ({self.marks(len(values))})", tuple(values)
        return f"{column} = ANY(?)", (list(values),)

    def time_in(self, moment: datetime | None) -> Any:
        if moment is None or not self.sqlite:
            return moment
        if moment.tzinfo is UTC:  # the usual case, a third cheaper: cut the "+00:00" off
            return moment.isoformat(" ", "microseconds")[:-6]
        return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")

    @staticmethod
    def time_out(value: Any) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            # Naive UTC text (see the class): read with its offset written on, six times
            # cheaper than `.replace(tzinfo=UTC)` after (a keyword call), and as exact.
            return datetime.fromisoformat(value + "+00:00")
        return value.astimezone(UTC)

    @classmethod
    def moment(cls, value: Any) -> datetime:
        """`time_out` of a NOT NULL column."""
        out = cls.time_out(value)
        assert out is not None
        return out

    def day_in(self, day: date) -> Any:
        return day.isoformat() if self.sqlite else day


@functools.lru_cache(maxsize=256)
def _pg_sql(sql: str) -> str:
    return sql.replace("?", "%s")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets the web server read while a job writes; busy_timeout waits instead of failing.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_savepoint(conn: Connection, _name: str | None) -> None:
    # pysqlite begins a transaction only before the first write; a SAVEPOINT issued earlier
    # (begin_nested) would be a transaction of its own, and its RELEASE would commit for
    # real, out of reach of the request's rollback. Begin first, so it nests. (SQLite takes
    # the same locks either way: a SAVEPOINT outside a transaction is a deferred BEGIN.)
    dbapi = conn.connection.driver_connection
    if dbapi is not None and not dbapi.in_transaction:
        conn.exec_driver_sql("BEGIN")


def _no_checkpoint_on_commit(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA wal_autocheckpoint=0")  # `WalCheckpointer` does it instead
    cursor.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
    cursor.close()


def make_engine(url: str, *, background_checkpoints: bool = False, **kwargs: Any) -> Engine:
    """Create an engine with the per-backend settings the platform relies on (`pool_size` and
    `max_overflow` are for PostgreSQL; SQLite keeps SQLAlchemy's defaults). On SQLite,
    `background_checkpoints` leaves checkpoints to a `WalCheckpointer` the caller runs."""
    if url.startswith("sqlite"):
        kwargs.pop("pool_size", None)
        kwargs.pop("max_overflow", None)
        kwargs.setdefault("connect_args", {"check_same_thread": False})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        if background_checkpoints:
            event.listen(engine, "connect", _no_checkpoint_on_commit)
        event.listen(engine, "savepoint", _sqlite_savepoint)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def engine_for(settings: Any, *, background_checkpoints: bool = False) -> Engine:
    """The engine an entry point makes from its settings (`config.Settings`)."""
    return make_engine(
        settings.database_url,
        background_checkpoints=background_checkpoints,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
    )


# The WAL file is cut back to this size after a checkpoint has let writers start it again.
WAL_SIZE_LIMIT = 64 * 1024 * 1024


class WalCheckpointer:
    """Copies SQLite's write-ahead log into the database file from a thread of its own.

    By default SQLite checkpoints inside the commit that takes the log past 1,000 pages: one
    device scan in a few hundred then paid ~20 ms for everyone's writes, and as scans are
    answered on the event loop (`web.api.scan_lane`) every request waited with it. At 1,000
    scans/s the p90 latency was 12-18 ms and the p99 19-28 ms; with the checkpoints here, 2-4
    and 7-22 ms (the thread shares the cores with the load). A PASSIVE checkpoint neither
    waits for nor blocks readers and writers, and SQLite runs it without Python's lock, on
    the other core. Only the web server's engine works so
    (`make_engine(background_checkpoints=True)`); other processes keep SQLite's default.
    """

    def __init__(self, engine: Engine, interval: float = 1.0) -> None:
        self.engine = engine
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last: tuple[int, int, int] | None = None  # the thread's latest `checkpoint()`

    def checkpoint(self) -> tuple[int, int, int]:
        """One PASSIVE checkpoint: (1 if it could not finish, frames in the log, frames copied)."""
        with self.engine.connect() as conn:
            busy, log, copied = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
        return int(busy), int(log), int(copied)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="wal-checkpoints", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.last = self.checkpoint()
            except Exception:  # a locked or closing database: try again next time
                log.exception("WAL checkpoint failed")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions keep loaded objects usable after the boundary commits."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def alembic_config(url: str | None = None) -> Any:
    """The Alembic config for the packaged migrations (no alembic.ini needed)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "phongdich:migrations")
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database schema up to `revision` (the server does this on start)."""
    from alembic import command

    if engine.url.get_backend_name() == "sqlite" and engine.url.database:
        from pathlib import Path

        Path(engine.url.database).parent.mkdir(parents=True, exist_ok=True)
    with engine.begin() as connection:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
