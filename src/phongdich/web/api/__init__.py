"""JSON API under /api/v1; one router per domain."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from phongdich.core.errors import AppError
from phongdich.web.api import (
    admin,
    areas,
    auth,
    checkins,
    jobs,
    people,
    reports,
    tokens,
    tracing,
    users,
    venues,
)


def json_only(request: Request) -> None:
    """Bodies must be JSON: it keeps cross-site HTML forms from reaching the API at all."""
    if (
        request.method in ("POST", "PUT", "PATCH")
        and request.headers.get("content-length", "0") != "0"
    ):
        content_type = request.headers.get("content-type", "")
        media_type = content_type.split(";")[0].strip()
        # File uploads (venue imports) are multipart; only endpoints marked for it take them.
        endpoint = getattr(request.scope.get("route"), "endpoint", None)
        if media_type == "multipart/form-data" and getattr(endpoint, "accepts_upload", False):
            return
        if media_type != "application/json":
            raise AppError(
                "request.unsupported_media_type",
                "API chỉ nhận dữ liệu JSON (Content-Type: application/json).",
                {"content_type": content_type},
                status=415,
            )


router = APIRouter(prefix="/api/v1", dependencies=[Depends(json_only)])
for module in (auth, areas, users, tokens, admin, jobs, venues, reports, people, checkins, tracing):
    router.include_router(module.router)
