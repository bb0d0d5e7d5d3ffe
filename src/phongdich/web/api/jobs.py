"""Progress of background jobs (exports, imports, demo fills)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from phongdich.jobs.queries import progress_of, read_job
from phongdich.web.context import CtxDep

router = APIRouter(prefix="/jobs", tags=["jobs"])


class JobRead(BaseModel):
    id: int
    kind: str
    status: str
    progress_done: int
    progress_total: int | None
    percent: int | None
    created_at: datetime
    finished_at: datetime | None
    result: dict[str, Any] | None
    error: str | None


@router.get("/{job_id}", summary="Tiến độ một tác vụ nền")
def get_job(job_id: int, ctx: CtxDep) -> JobRead:
    job = read_job(ctx.db, ctx.require_principal(), job_id)
    progress = progress_of(ctx.db, job)
    return JobRead(
        id=job.id,
        kind=job.kind,
        status=job.status,
        progress_done=progress.done,
        progress_total=progress.total,
        percent=progress.percent,
        created_at=job.created_at,
        finished_at=job.finished_at,
        result=job.result,
        # A traceback helps operators, not people: show only that it failed.
        error="Tác vụ gặp lỗi; quản trị viên có thể xem chi tiết trong nhật ký máy chủ."
        if job.error
        else None,
    )
