"""Progress of the background jobs running in this process, for the status page on SQLite.

SQLite takes one writer at a time, and a job's own transaction holds it once the job has
written (a venue import, by its first progress report): progress committed from a second
connection would wait for that transaction until the busy timeout, then fail the job. On SQLite
the runner therefore keeps progress here, where the status page of the same process reads it
(`serve` runs jobs in its own process by default), and writes it with the job's outcome. A job
run by a separate worker process shows its status without numbers until it ends. PostgreSQL
commits progress as it goes, for every process to read.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_progress: dict[int, tuple[int, int | None]] = {}


def report(job_id: int, done: int, total: int | None) -> None:
    with _lock:
        _progress[job_id] = (done, total)


def current(job_id: int) -> tuple[int, int | None] | None:
    with _lock:
        return _progress.get(job_id)


def forget(job_id: int) -> None:
    with _lock:
        _progress.pop(job_id, None)
