"""Run due periodic jobs and claim queued background jobs, safely from several workers.

Neither path needs row locks, so SQLite and PostgreSQL behave the same:
- a periodic job's time slot is claimed by inserting (job, slot) under a unique constraint;
- a queued job is claimed by `UPDATE … SET status='running' WHERE id=? AND status='queued'`,
  which exactly one worker can win.

The runner takes a clock rather than one moment: a pass starts, each job starts and finishes
at its own time, and the records say when (a fixed clock in tests, moved by the job itself).
"""

from __future__ import annotations

import logging
import traceback
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from phongdich.core.clock import Clock
from phongdich.core.errors import AppError
from phongdich.jobs import live
from phongdich.jobs.registry import BackgroundHandler, PeriodicJob
from phongdich.models import BackgroundJob, JobRun

log = logging.getLogger(__name__)

EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


def slot_start(job: PeriodicJob, now: datetime) -> datetime:
    """The start of the time slot `now` falls in, counted from a fixed epoch."""
    n = (now - EPOCH) // job.every
    return EPOCH + n * job.every


def run_due_jobs(
    factory: sessionmaker[Session], jobs: list[PeriodicJob], clock: Clock, worker: str
) -> list[str]:
    """Run each job whose current slot no worker has claimed yet; returns the names run. The
    slots are those of the pass's start; each job runs at its own start time."""
    ran: list[str] = []
    pass_start = clock.now()
    for job in jobs:
        slot = slot_start(job, pass_start)
        now = clock.now()
        with factory() as session:
            run = JobRun(
                job_name=job.name, slot=slot, worker=worker, started_at=now, status="running"
            )
            session.add(run)
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                continue  # another worker has this slot
            run_id = run.id
        with factory() as session:
            try:
                result = job.run(session, now)
                session.commit()
                status, error = "done", None
            except Exception:
                session.rollback()
                log.exception("periodic job %s failed", job.name)
                result, status, error = None, "failed", traceback.format_exc()[-4000:]
            row = session.get(JobRun, run_id)
            assert row is not None
            row.status, row.result, row.error = status, result, error
            row.finished_at = clock.now()
            session.commit()
        ran.append(job.name)
    return ran


def enqueue(
    session: Session, kind: str, params: dict[str, Any], *, now: datetime, user_id: int | None
) -> BackgroundJob:
    """Queue work for a worker; the caller's transaction makes it visible."""
    job = BackgroundJob(
        kind=kind, params=params, status="queued", created_at=now, created_by_id=user_id
    )
    session.add(job)
    session.flush()
    return job


def claim_next(factory: sessionmaker[Session], worker: str, now: datetime) -> int | None:
    """Claim the oldest queued job; returns its id, or None when the queue is empty."""
    with factory() as session:
        candidates = session.scalars(
            select(BackgroundJob.id)
            .where(BackgroundJob.status == "queued")
            .order_by(BackgroundJob.id)
            .limit(5)
        ).all()
        for job_id in candidates:
            result = session.execute(
                update(BackgroundJob)
                .where(BackgroundJob.id == job_id, BackgroundJob.status == "queued")
                .values(status="running", worker=worker, started_at=now)
            )
            session.commit()
            if result.rowcount == 1:  # type: ignore[attr-defined]
                return job_id
    return None


def run_background_job(
    factory: sessionmaker[Session],
    handlers: dict[str, BackgroundHandler],
    job_id: int,
    clock: Clock,
) -> str:
    """Run a claimed job, reporting progress as it goes so a status page in any process can
    show it (on SQLite through `jobs.live`), and storing the last report with the outcome."""
    now = clock.now()
    with factory() as session:
        job = session.get(BackgroundJob, job_id)
        assert job is not None
        handler = handlers.get(job.kind)
        params = dict(job.params)

    on_sqlite = factory.kw["bind"].dialect.name == "sqlite"
    where = live.place_for(factory.kw["bind"])  # None unless a SQLite file
    last: tuple[int, int | None] | None = None

    def progress(done: int, total: int | None) -> None:
        nonlocal last
        last = (done, total)
        if on_sqlite:  # the job's transaction may hold the one writer (see `jobs.live`)
            live.report(job_id, done, total, where)
            return
        with factory() as s:
            s.execute(
                update(BackgroundJob)
                .where(BackgroundJob.id == job_id)
                .values(progress_done=done, progress_total=total)
            )
            s.commit()

    with factory() as session:
        try:
            if handler is None:
                raise LookupError(f"unknown job kind {job.kind!r}")
            result = handler(session, params, now, progress)
            session.commit()
            status, error = "done", None
        except AppError as err:  # a refusal for the requester to read (e.g. a file's errors)
            session.rollback()
            result = {
                "error_code": err.code,
                "message": err.message,
                "template": err.template,
                "params": err.named,
            }
            status, error = "failed", f"{err.code}: {err.message}"
        except Exception:
            session.rollback()
            log.exception("background job %s failed", job_id)
            result, status, error = None, "failed", traceback.format_exc()[-4000:]
        row = session.get(BackgroundJob, job_id)
        assert row is not None
        row.status, row.result, row.error, row.finished_at = (
            status,
            result,
            error,
            clock.now(),
        )
        if last is not None:
            row.progress_done, row.progress_total = last
        session.commit()
        live.forget(job_id, where)
        return status


def work_once(
    factory: sessionmaker[Session],
    jobs: list[PeriodicJob],
    handlers: dict[str, BackgroundHandler],
    clock: Clock,
    worker: str,
    max_background: int = 10,
) -> dict[str, Any]:
    """One pass of a worker: due periodic jobs, then up to `max_background` queued jobs."""
    ran = run_due_jobs(factory, jobs, clock, worker)
    done = 0
    while done < max_background:
        job_id = claim_next(factory, worker, clock.now())
        if job_id is None:
            break
        run_background_job(factory, handlers, job_id, clock)
        done += 1
    return {"periodic": ran, "background": done}
