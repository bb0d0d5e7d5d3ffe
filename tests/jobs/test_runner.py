"""Jobs on a real database: several workers side by side never run the same work twice."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from phongdich.core.clock import FixedClock
from phongdich.db import make_session_factory
from phongdich.jobs import live
from phongdich.jobs.queries import progress_of
from phongdich.jobs.registry import PeriodicJob, periodic_jobs
from phongdich.jobs.runner import (
    claim_next,
    enqueue,
    run_background_job,
    run_due_jobs,
    work_once,
)
from phongdich.models import AuthAttempt, BackgroundJob, JobRun
from tests.conftest import T0, FreshDatabase, migrated_engine

MINUTE = timedelta(minutes=1)
ROOT = Path(__file__).resolve().parents[2]


def test_workers_side_by_side_run_each_slot_and_each_job_once(
    fresh_database: FreshDatabase,
) -> None:
    engine = migrated_engine(fresh_database, with_areas=False)
    factory = make_session_factory(engine)
    calls: list[str] = []
    lock = threading.Lock()

    def tick(session: Session, now: Any) -> dict[str, Any]:
        with lock:
            calls.append("tick")
        return {"ok": True}

    handled: list[int] = []

    def handler(
        session: Session, params: dict[str, Any], now: Any, progress: Any
    ) -> dict[str, Any]:
        with lock:
            handled.append(params["n"])
        progress(1, 1)
        return {"n": params["n"]}

    jobs = [PeriodicJob("test.tick", timedelta(minutes=5), tick, "thử")]
    with factory() as session:
        for n in range(40):
            enqueue(session, "test.job", {"n": n}, now=T0, user_id=None)
        session.commit()

    barrier = threading.Barrier(4)
    clock = FixedClock(T0 + timedelta(minutes=1))  # read by every worker, moved by none
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            barrier.wait()
            for _ in range(3):
                work_once(
                    factory,
                    jobs,
                    {"test.job": handler},
                    clock,
                    name,
                )
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert calls == ["tick"]  # one slot, four workers, one run
    assert sorted(handled) == list(range(40))  # every job exactly once
    with factory() as session:
        statuses = session.scalars(select(BackgroundJob.status)).all()
        assert set(statuses) == {"done"}
        assert session.scalar(select(func.count()).select_from(JobRun)) == 1
        assert {j.progress_done for j in session.scalars(select(BackgroundJob))} == {1}
    # The next slot runs again.
    run_due_jobs(factory, jobs, FixedClock(T0 + timedelta(minutes=6)), "w0")
    assert calls == ["tick", "tick"]
    engine.dispose()


def test_a_failing_job_is_recorded_and_does_not_stop_the_others(
    fresh_database: FreshDatabase,
) -> None:
    engine = migrated_engine(fresh_database, with_areas=False)
    factory = make_session_factory(engine)

    def boom(session: Session, now: Any) -> dict[str, Any]:
        raise RuntimeError("hỏng")

    ran = run_due_jobs(
        factory,
        [PeriodicJob("test.boom", timedelta(hours=1), boom, "hỏng"), *periodic_jobs()],
        FixedClock(T0),
        "w",
    )
    assert "test.boom" in ran and "auth.purge" in ran
    with factory() as session:
        rows = {r.job_name: r for r in session.scalars(select(JobRun))}
    assert rows["test.boom"].status == "failed" and "hỏng" in (rows["test.boom"].error or "")
    assert rows["auth.purge"].status == "done"
    engine.dispose()


def test_runs_record_when_each_job_started_and_finished(fresh_database: FreshDatabase) -> None:
    engine = migrated_engine(fresh_database, with_areas=False)
    factory = make_session_factory(engine)
    clock = FixedClock(T0)

    def slow(session: Session, now: Any) -> dict[str, Any]:
        clock.advance(minutes=7)  # the job takes seven minutes
        return {"started": now.isoformat()}

    def handler(
        session: Session, params: dict[str, Any], now: Any, progress: Any
    ) -> dict[str, Any]:
        clock.advance(minutes=3)
        return {"started": now.isoformat()}

    with factory() as session:
        enqueue(session, "test.job", {}, now=T0, user_id=None)
        session.commit()
    jobs = [PeriodicJob("test.slow", timedelta(hours=1), slow, "chậm")]
    work_once(factory, jobs, {"test.job": handler}, clock, "w")
    with factory() as session:
        run = session.scalars(select(JobRun)).one()
        job = session.scalars(select(BackgroundJob)).one()
    assert (run.started_at, run.finished_at) == (T0, T0 + 7 * MINUTE)
    # The queued job started once the periodic one was done, and took its own three minutes.
    assert (job.started_at, job.finished_at) == (
        T0 + timedelta(minutes=7),
        T0 + timedelta(minutes=10),
    )
    assert job.result == {"started": (T0 + 7 * MINUTE).isoformat()}
    engine.dispose()


def test_purge_forgets_old_attempts_only(db: Session) -> None:
    from phongdich.auth.tasks import purge_sign_in_state

    db.add_all(
        [
            AuthAttempt(kind="code_fail:phone", key="+84912345678", at=T0 - timedelta(hours=2)),
            AuthAttempt(kind="code_fail:phone", key="+84912345678", at=T0 - timedelta(minutes=5)),
        ]
    )
    db.flush()
    assert purge_sign_in_state(db, T0)["attempts"] == 1
    assert db.scalar(select(func.count()).select_from(AuthAttempt)) == 1


def test_a_job_that_writes_can_report_progress_on_either_database(
    fresh_database: FreshDatabase,
) -> None:
    """A venue import writes rows, then reports progress. On SQLite a second connection's
    commit waited for the job's own transaction until the busy timeout, and the job failed;
    progress is now kept in the process there (`jobs.live`), committed as it goes on PostgreSQL,
    and stored with the outcome on both."""
    engine = migrated_engine(fresh_database, with_areas=False)
    factory = make_session_factory(engine)  # connections of its own, as in a server
    seen: list[Any] = []

    def handler(
        session: Session, params: dict[str, Any], now: Any, progress: Any
    ) -> dict[str, Any]:
        session.add(AuthAttempt(kind="test", key="k", at=now))
        session.flush()  # the job's transaction now writes
        for done in (1000, 2000):
            progress(done, 2500)
            with factory() as other:  # what a status page in this process would show
                seen.append(progress_of(other, other.get(BackgroundJob, job_id)))  # type: ignore[arg-type]
        return {"created": 2500}

    with factory() as session:
        job_id = enqueue(session, "test.writes", {}, now=T0, user_id=None).id
        session.commit()
    assert claim_next(factory, "w", T0) == job_id
    started = time.monotonic()
    assert run_background_job(factory, {"test.writes": handler}, job_id, FixedClock(T0)) == "done"
    assert time.monotonic() - started < 5  # no wait for a lock
    assert [(p.done, p.total, p.percent) for p in seen] == [(1000, 2500, 40), (2000, 2500, 80)]
    with factory() as session:
        job = session.get(BackgroundJob, job_id)
        assert job is not None and job.result == {"created": 2500}
        assert (job.progress_done, job.progress_total) == (2000, 2500)
        assert session.scalar(select(func.count()).select_from(AuthAttempt)) == 1
    engine.dispose()


# A worker of its own: it runs the job, whose transaction writes and reports progress, then
# waits until the test has looked (or 30 s), and ends it.
_WORKER = """
import sys, time
from pathlib import Path
from phongdich.core.clock import FixedClock
from phongdich.db import make_engine, make_session_factory
from phongdich.jobs.runner import run_background_job
from phongdich.models import AuthAttempt
from tests.conftest import T0

url, job_id, seen = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])

def handler(session, params, now, progress):
    session.add(AuthAttempt(kind="test", key="k", at=now))
    session.flush()  # the job's transaction now holds SQLite's writer
    progress(1000, 2500)
    deadline = time.monotonic() + 30
    while not seen.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return {"created": 2500}

factory = make_session_factory(make_engine(url))
print(run_background_job(factory, {"test.writes": handler}, job_id, FixedClock(T0)))
"""


def test_a_job_run_by_another_process_shows_its_progress(
    fresh_database: FreshDatabase, tmp_path: Path
) -> None:
    """`phongdich worker` runs jobs in a process of its own: the status page of the web
    server's process shows the numbers it reports while it runs (on SQLite through a file
    beside the database, on PostgreSQL as committed), and the file goes when the job ends."""
    engine = migrated_engine(fresh_database, with_areas=False)
    factory = make_session_factory(engine)
    with factory() as session:
        job_id = enqueue(session, "test.writes", {}, now=T0, user_id=None).id
        session.commit()
    assert claim_next(factory, "w", T0) == job_id
    seen = tmp_path / "seen"
    worker = subprocess.Popen(  # noqa: S603  (our own interpreter and code)
        [sys.executable, "-c", _WORKER, fresh_database.url, str(job_id), str(seen)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
    )
    try:
        progress = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with factory() as session:
                job = session.get(BackgroundJob, job_id)
                assert job is not None
                progress = progress_of(session, job)
            if progress.done:
                break
            time.sleep(0.05)
        assert progress is not None
        assert (progress.done, progress.total, progress.percent) == (1000, 2500, 40)
    finally:
        seen.touch()
        out, _ = worker.communicate(timeout=60)
    assert out.decode().strip() == "done"
    with factory() as session:
        job = session.get(BackgroundJob, job_id)
        assert job is not None and job.status == "done"
        assert (job.progress_done, job.progress_total) == (1000, 2500)
    place = live.place_for(engine)
    assert place is None or not (place / str(job_id)).exists()
    engine.dispose()
