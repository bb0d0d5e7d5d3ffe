"""Who may look at a background job: whoever queued it, and administrators."""

from __future__ import annotations

from sqlalchemy.orm import Session

from phongdich.auth.policy import Principal, can_somewhere
from phongdich.core.errors import NotFound
from phongdich.models import BackgroundJob


def read_job(session: Session, principal: Principal, job_id: int) -> BackgroundJob:
    """A job and its progress; others' jobs look like missing ones (they may name people)."""
    job = session.get(BackgroundJob, job_id)
    if job is None or not (
        (principal.user_id is not None and job.created_by_id == principal.user_id)
        or can_somewhere(principal, "jobs.read")
    ):
        raise NotFound("job.not_found", "Không tìm thấy tác vụ.")
    return job


def percent(job: BackgroundJob) -> int | None:
    if not job.progress_total:
        return None
    return min(100, round(100 * job.progress_done / job.progress_total))
