"""The demo fill as a background job, so a status page can show its progress."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from phongdich.demo.service import fill_demo


def run_demo_fill(
    session: Session,
    params: dict[str, Any],
    now: datetime,
    progress: Callable[[int, int | None], None],
) -> dict[str, Any]:
    done = 0

    def step(_stage: str, n: int, total: int | None) -> None:
        nonlocal done
        done += n
        progress(done, total)

    return fill_demo(session, now=now, progress=step)


HANDLERS = {"demo.fill": run_demo_fill}
