"""Server-rendered pages, one router per domain."""

from __future__ import annotations

from fastapi import APIRouter

from phongdich.web.pages import admin, areas, auth, home

router = APIRouter(include_in_schema=False)
for module in (home, auth, areas, admin):
    router.include_router(module.router)
