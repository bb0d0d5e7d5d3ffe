"""SQLite's write-ahead log is copied back by the web server's checkpoint thread, not inside the
commit of whichever request crosses 1,000 pages (on a SQLite file of its own, whatever the
suite's database)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, insert

from phongdich.config import Settings
from phongdich.db import WAL_SIZE_LIMIT, WalCheckpointer, make_engine

ROWS = Table("rows", MetaData(), Column("id", Integer, primary_key=True), Column("text", String))


def write(engine: Engine, commits: int) -> None:
    for i in range(commits):
        with engine.begin() as conn:
            conn.execute(insert(ROWS), [{"text": f"{i}-{j}" * 40} for j in range(20)])


def pragma(engine: Engine, name: str) -> int:
    with engine.connect() as conn:
        return int(conn.exec_driver_sql(f"PRAGMA {name}").scalar_one())


def test_commits_leave_the_log_to_the_checkpointer(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    default, served = make_engine(url), make_engine(url, background_checkpoints=True)
    ROWS.create(default)
    assert pragma(default, "wal_autocheckpoint") == 1000  # other processes keep SQLite's way
    assert pragma(served, "wal_autocheckpoint") == 0
    assert pragma(served, "journal_size_limit") == WAL_SIZE_LIMIT
    write(served, 400)  # past the 1,000 pages at which a commit would have checkpointed
    checkpointer = WalCheckpointer(served)
    busy, frames, copied = checkpointer.checkpoint()
    assert busy == 0 and frames > 1000 and copied == frames  # nothing had been copied back
    size = os.path.getsize(tmp_path / "a.sqlite3-wal")
    write(served, 400)  # the log starts again from its beginning instead of doubling
    assert os.path.getsize(tmp_path / "a.sqlite3-wal") < 1.2 * size
    default.dispose()
    served.dispose()


def test_the_thread_checkpoints_until_stopped(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'b.sqlite3'}", background_checkpoints=True)
    ROWS.create(engine)
    checkpointer = WalCheckpointer(engine, interval=0.05)
    checkpointer.start()
    write(engine, 50)
    deadline = time.monotonic() + 5
    while (checkpointer.last is None or checkpointer.last[2] == 0) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert checkpointer.last is not None and checkpointer.last[2] > 0  # the thread copied
    checkpointer.stop()
    assert not any(t.name == "wal-checkpoints" for t in threading.enumerate())
    engine.dispose()


def test_the_web_server_runs_the_thread_while_it_serves(tmp_path: Path) -> None:
    from phongdich.web.app import create_app

    settings = Settings(  # type: ignore[call-arg]
        database_url=f"sqlite:///{tmp_path / 'c.sqlite3'}",
        run_jobs_in_process=False,
        freeze_gc_at_start=False,
        _env_file=None,
    )
    app = create_app(settings)
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        assert any(t.name == "wal-checkpoints" for t in threading.enumerate())
    assert not any(t.name == "wal-checkpoints" for t in threading.enumerate())
