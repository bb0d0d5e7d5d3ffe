"""What runs periodically, and the kinds of background job that can be queued.

Each domain contributes its periodic jobs through its own `tasks.py`; this module collects them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from phongdich.messaging.sms import SmsSender


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every: timedelta
    run: Callable[[Session, datetime], dict[str, Any]]
    description: str


# A background job reports progress through `progress(done, total)` and returns its result.
BackgroundHandler = Callable[
    [Session, dict[str, Any], datetime, Callable[[int, int | None], None]], dict[str, Any]
]


def periodic_jobs(
    *, checkin_retention_days: int = 28, sms_sender: SmsSender | None = None
) -> list[PeriodicJob]:
    """Every periodic job of every domain; entry points pass what they read from settings
    (with no SMS sender, nothing delivers queued SMS)."""
    from phongdich.auth import tasks as auth_tasks
    from phongdich.checkins import tasks as checkin_tasks
    from phongdich.messaging import tasks as messaging_tasks
    from phongdich.tracing import tasks as tracing_tasks
    from phongdich.venues import tasks as venue_tasks

    return [
        *auth_tasks.PERIODIC,
        *venue_tasks.PERIODIC,
        *checkin_tasks.periodic(checkin_retention_days),
        *tracing_tasks.PERIODIC,
        *(messaging_tasks.periodic(sms_sender) if sms_sender is not None else []),
    ]


def background_handlers() -> dict[str, BackgroundHandler]:
    """Every kind of queued job, by name."""
    from phongdich.demo import tasks as demo_tasks
    from phongdich.tracing import tasks as tracing_tasks
    from phongdich.venues import imports as venue_imports

    return {**demo_tasks.HANDLERS, **tracing_tasks.HANDLERS, **venue_imports.HANDLERS}
