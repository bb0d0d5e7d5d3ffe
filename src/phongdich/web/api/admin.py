"""Administrators' read-outs: the audit log and the SMS outbox."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from phongdich.audit.service import list_entries
from phongdich.auth.schemas import AuditRead
from phongdich.core.phone import normalize_phone
from phongdich.messaging.sms import outbox
from phongdich.web.context import CtxDep

router = APIRouter(tags=["admin"])


@router.get("/audit", summary="Nhật ký thao tác (quản trị)")
def audit(
    ctx: CtxDep,
    action: Annotated[str | None, Query(max_length=60)] = None,
    before_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AuditRead]:
    entries = list_entries(
        ctx.db, ctx.require_principal(), action=action, before_id=before_id, limit=limit
    )
    return [AuditRead.model_validate(e, from_attributes=True) for e in entries]


@router.get("/sms/outbox", summary="Hộp thư SMS đi (quản trị)")
def sms_outbox(
    ctx: CtxDep, phone: Annotated[str | None, Query(max_length=30)] = None
) -> list[dict[str, object]]:
    messages = outbox(
        ctx.db, ctx.require_principal(), phone=normalize_phone(phone) if phone else None
    )
    return [
        {
            "id": m.id,
            "phone": m.phone,
            "body": m.body,
            "purpose": m.purpose,
            "status": m.status,
            "created_at": m.created_at.isoformat(),
        }
        for m in messages
    ]
