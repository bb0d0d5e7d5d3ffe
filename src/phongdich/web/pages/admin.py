"""Administrators' pages: accounts, audit log, SMS outbox."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from phongdich.areas.queries import get_area
from phongdich.audit.service import list_entries
from phongdich.auth.policy import require_somewhere
from phongdich.auth.queries import visible_users
from phongdich.auth.roles import ROLE_LABELS, Role
from phongdich.auth.service import create_user
from phongdich.core.errors import AppError
from phongdich.messaging.sms import outbox
from phongdich.web.context import CtxDep, check_csrf
from phongdich.web.templating import render

router = APIRouter(prefix="/admin")


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    ctx: CtxDep,
    action: Annotated[str, Query(max_length=60)] = "",
    before_id: int | None = None,
) -> HTMLResponse:
    entries = list_entries(
        ctx.db, ctx.require_principal(), action=action or None, before_id=before_id
    )
    return render(ctx, "admin/audit.html", entries=entries, action=action)


@router.get("/outbox", response_class=HTMLResponse)
def outbox_page(ctx: CtxDep) -> HTMLResponse:
    return render(ctx, "admin/outbox.html", messages=outbox(ctx.db, ctx.require_principal()))


@router.get("/users", response_class=HTMLResponse)
def users_page(ctx: CtxDep, q: Annotated[str, Query(max_length=60)] = "") -> HTMLResponse:
    principal = ctx.require_principal()
    require_somewhere(principal, "user.read")
    users = visible_users(ctx.db, principal, search=q or None)
    return render(
        ctx, "admin/users.html", users=users, q=q, roles_all=ROLE_LABELS, error=None, form={}
    )


@router.post("/users")
def users_create(
    ctx: CtxDep,
    full_name: Annotated[str, Form(max_length=120)],
    role: Annotated[str, Form(max_length=30)],
    username: Annotated[str, Form(max_length=60)] = "",
    phone: Annotated[str, Form(max_length=30)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    area_scheme: Annotated[str, Form(max_length=4)] = "2021",
    area_level: Annotated[str, Form(max_length=10)] = "",
    area_code: Annotated[str, Form(max_length=5)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    principal = ctx.require_principal()
    check_csrf(ctx, csrf_token)
    form = {
        "full_name": full_name,
        "role": role,
        "username": username,
        "phone": phone,
        "area_scheme": area_scheme,
        "area_level": area_level,
        "area_code": area_code,
    }
    try:
        if role not in {r.value for r in Role}:
            raise AppError("role.unknown", "Vai trò không hợp lệ.")
        area = get_area(ctx.db, area_scheme, area_level, area_code) if area_code else None
        with ctx.db.begin_nested():
            create_user(
                ctx.db,
                ctx.actor,
                now=ctx.now,
                full_name=full_name,
                username=username or None,
                phone=phone or None,
                password=password or None,
                role=Role(role),
                area=area,
            )
    except AppError as err:
        users = visible_users(ctx.db, principal)
        return render(
            ctx,
            "admin/users.html",
            status=err.status,
            users=users,
            q="",
            roles_all=ROLE_LABELS,
            error=err,
            form=form,
        )
    return RedirectResponse("/admin/users?created=1", status_code=303)
