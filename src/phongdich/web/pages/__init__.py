"""Server-rendered pages, one router per domain."""

from __future__ import annotations

from fastapi import APIRouter

from phongdich.web.pages import (
    admin,
    areas,
    auth,
    checkins,
    home,
    jobs,
    people,
    posters,
    reports,
    tracing,
    tracing_follow_ups,
    tracing_inbox,
    venue_qr,
    venues,
)

router = APIRouter(include_in_schema=False)
for module in (
    home,
    auth,
    areas,
    admin,
    jobs,
    posters,
    reports,
    venue_qr,
    venues,
    people,
    checkins,
    tracing,
    tracing_follow_ups,
    tracing_inbox,
):
    router.include_router(module.router)
