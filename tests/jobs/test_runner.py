"""Jobs on a real database: several workers side by side never run the same work twice."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from phongdich.db import make_session_factory
from phongdich.jobs.registry import PeriodicJob, periodic_jobs
from phongdich.jobs.runner import enqueue, run_due_jobs, work_once
from phongdich.models import AuthAttempt, BackgroundJob, JobRun
from tests.conftest import T0, FreshDatabase, migrated_engine


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
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            barrier.wait()
            for _ in range(3):
                work_once(factory, jobs, {"test.job": handler}, T0 + timedelta(minutes=1), name)
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
    run_due_jobs(factory, jobs, T0 + timedelta(minutes=6), "w0")
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
        T0,
        "w",
    )
    assert "test.boom" in ran and "auth.purge" in ran
    with factory() as session:
        rows = {r.job_name: r for r in session.scalars(select(JobRun))}
    assert rows["test.boom"].status == "failed" and "hỏng" in (rows["test.boom"].error or "")
    assert rows["auth.purge"].status == "done"
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
