"""A status page for a background job, refreshing itself until the job ends."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from phongdich.core.errors import fill
from phongdich.jobs.queries import progress_of, read_job
from phongdich.web.context import Ctx, CtxDep
from phongdich.web.templating import render

router = APIRouter()


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(job_id: int, ctx: CtxDep) -> HTMLResponse:
    job = read_job(ctx.db, ctx.require_principal(), job_id)
    return render(
        ctx,
        "jobs/status.html",
        job=job,
        progress=progress_of(ctx.db, job),
        refusal=_refusal(ctx, job.result),
    )


def _refusal(ctx: Ctx, result: Any) -> str | None:
    """A failed job's reason in the reader's language (see `core.errors.AppError.template`)."""
    if not isinstance(result, dict) or "error_code" not in result:
        return None
    template = result.get("template") or result["message"]
    return fill(ctx.gettext(template), result.get("params"))


def wake_jobs(app: Any) -> None:
    """Have this process's job loop look for queued jobs now: run after the response, so after
    the request's commit has made the job visible (a separate worker finds it at its next poll)."""
    app.state.jobs_wake.set()
