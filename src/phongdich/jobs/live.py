"""Progress of running background jobs on SQLite, kept outside the database.

SQLite takes one writer at a time, and a job's own transaction holds it once the job has
written (a venue import, by its first progress report): progress committed from a second
connection would wait for that transaction until the busy timeout, then fail the job. On SQLite
the runner therefore keeps progress in this process's memory, where a status page of the same
process reads it (`serve` runs jobs in its own process by default), and, for a database file,
also in a small file per job beside it (`<database>-progress/<job id>`, as SQLite keeps its own
`-wal` and `-shm` files), where the status page of another process reads it: a job run by a
separate `phongdich worker` shows its numbers too. The runner writes the last report with the
job's outcome and then forgets it here. PostgreSQL commits progress as it goes, for every
process to read, and does not come here.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

from sqlalchemy import Connection, Engine

_lock = threading.Lock()
_progress: dict[int, tuple[int, int | None]] = {}


def place_for(bind: Engine | Connection) -> Path | None:
    """Where the progress files of this database's jobs go: None unless a SQLite file."""
    if isinstance(bind, Connection):
        bind = bind.engine
    if bind.dialect.name != "sqlite" or bind.url.database in (None, "", ":memory:"):
        return None
    return Path(f"{bind.url.database}-progress")


def report(job_id: int, done: int, total: int | None, where: Path | None = None) -> None:
    with _lock:
        _progress[job_id] = (done, total)
    if where is not None:
        _write(where, job_id, f"{done} {'' if total is None else total}")


def current(job_id: int, where: Path | None = None) -> tuple[int, int | None] | None:
    """The last report of a running job: this process's own, else the file's (another
    process's); None when neither has one."""
    with _lock:
        mine = _progress.get(job_id)
    if mine is not None or where is None:
        return mine
    try:
        done, total = (where / str(job_id)).read_text(encoding="ascii").split(" ")
        return int(done), int(total) if total else None
    except (OSError, ValueError):  # no report yet, or the job has just ended
        return None


def forget(job_id: int, where: Path | None = None) -> None:
    with _lock:
        _progress.pop(job_id, None)
    if where is not None:
        (where / str(job_id)).unlink(missing_ok=True)


def _write(where: Path, job_id: int, text: str) -> None:
    """Replace the job's file at once, so that a reader never sees half a report."""
    try:
        where.mkdir(exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=where, prefix=f".{job_id}.")
    except OSError:
        # Progress is a courtesy: a read-only or full disk must not fail the job itself,
        # and this process's own status pages still have the report in memory.
        return
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(text)
        os.replace(temporary, where / str(job_id))
    except OSError:
        Path(temporary).unlink(missing_ok=True)
