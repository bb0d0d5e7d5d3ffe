"""Who may look at a background job: whoever queued it, and administrators."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from phongdich.auth.policy import Principal, can_somewhere
from phongdich.auth.service import principal_for
from phongdich.core.errors import NotFound
from phongdich.jobs import live
from phongdich.models import BackgroundJob, User


def read_job(session: Session, principal: Principal, job_id: int) -> BackgroundJob:
    """A job and its progress; others' jobs look like missing ones (they may name people)."""
    job = session.get(BackgroundJob, job_id)
    if job is None or not (
        (principal.user_id is not None and job.created_by_id == principal.user_id)
        or can_somewhere(principal, "jobs.read")
    ):
        raise NotFound("job.not_found", "Không tìm thấy tác vụ.")
    return job


@dataclass(frozen=True)
class Progress:
    done: int
    total: int | None

    @property
    def percent(self) -> int | None:
        if not self.total:
            return None
        return min(100, round(100 * self.done / self.total))


def progress_of(session: Session, job: BackgroundJob) -> Progress:
    """What the job has reported: while it runs on SQLite, from the process running it
    (`jobs.live`; on PostgreSQL nothing is kept there), else as stored."""
    running = (
        live.current(job.id, live.place_for(session.get_bind()))
        if job.status == "running"
        else None
    )
    if running is not None:
        return Progress(*running)
    return Progress(job.progress_done, job.progress_total)


def requester(session: Session, params: dict[str, Any]) -> Principal:
    """The rights, as they are now, of whoever queued a job (`params["user_id"]`): a job runs
    later than the request, and a right withdrawn in between no longer counts."""
    user = session.get(User, params.get("user_id") or 0)
    if user is None:
        raise LookupError("the job has no requester")
    return principal_for(session, user)
