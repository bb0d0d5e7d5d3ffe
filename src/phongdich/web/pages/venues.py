"""Venue pages: my venues, registration with a commune picker, the officials' list, a venue's
page with its staff and sub-locations, and the import page with its preview."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from phongdich.areas.queries import get_area, search_areas
from phongdich.auth.policy import Principal, Target, can, can_somewhere, require_somewhere
from phongdich.auth.roles import ROLE_ACTIONS, Role
from phongdich.auth.service import area_ref
from phongdich.auth.tokens import create_api_token, revoke_api_token, tokens_held_for
from phongdich.checkins.batch import MAX_BATCH
from phongdich.core.errors import AppError, NotFound
from phongdich.core.shortcode import format_short_code
from phongdich.models import ApiToken, AuditEntry, Venue
from phongdich.venues.imports import (
    IN_REQUEST_ROWS,
    MAX_ROWS,
    PREVIEW_ROWS,
    TEMPLATE_HEADERS,
    commit_import,
    preview_import,
    queue_import,
    rows_as_csv,
)
from phongdich.venues.queries import (
    STATUSES,
    VenueFilter,
    area_names,
    areas_of,
    load_venue,
    types_of,
    venue_target,
    visible_venues,
)
from phongdich.venues.service import (
    LOCATION_KINDS,
    DuplicateSuspected,
    VenueEdit,
    add_location,
    approve_venue,
    close_venue,
    create_venue,
    edit_venue,
    locations_of,
    make_draft,
    register_venue,
    reject_venue,
    remove_location,
    reopen_venue,
)
from phongdich.venues.staff import add_staff, list_staff, remove_staff
from phongdich.venues.types import list_types
from phongdich.web.api.venues import default_scheme
from phongdich.web.context import Ctx, CtxDep, check_csrf
from phongdich.web.pages.jobs import wake_jobs
from phongdich.web.templating import env, render

router = APIRouter(prefix="/venues")
env.filters["short_code"] = format_short_code
PER_PAGE = 50
CsrfForm = Annotated[str, Form(max_length=100)]


def _form_venue(ctx: Ctx, venue_id: int, csrf_token: str) -> Venue:
    """The venue a form posts to, once the sender is signed in, the form genuine and the venue
    theirs to see (each action checks its own permission)."""
    ctx.require_principal()
    check_csrf(ctx, csrf_token)
    venue, _area = load_venue(ctx.db, ctx.principal, venue_id)
    return venue


def _back(venue_id: int, note: str) -> RedirectResponse:
    return RedirectResponse(f"/venues/{venue_id}?done={note}", status_code=303)


@router.get("", response_class=HTMLResponse)
def venue_list(
    ctx: CtxDep,
    status: Annotated[str, Query(max_length=12)] = "",
    type: Annotated[str, Query(max_length=40)] = "",
    q: Annotated[str, Query(max_length=100)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    principal = ctx.require_principal()
    require_somewhere(principal, "venue.read")
    flt = VenueFilter(
        status=status if status in STATUSES else None, type_code=type or None, search=q or None
    )
    rows, total = visible_venues(ctx.db, principal, flt, page=page, per_page=PER_PAGE)
    pending, pending_total = visible_venues(
        ctx.db, principal, VenueFilter(status="pending"), per_page=20
    )
    shown = rows + pending
    areas = areas_of(ctx.db, shown)
    return render(
        ctx,
        "venues/list.html",
        venues=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        pending=pending if _approves(principal) else [],
        pending_total=pending_total,
        types={t.id: t for t in list_types(ctx.db)},
        type_choices=list_types(ctx.db),
        names=area_names(ctx.db, list(areas.values())),
        statuses=STATUSES,
        filters={"status": status, "type": type, "q": q},
        can_import=can_somewhere(principal, "venue.create"),
    )


def _approves(principal: Principal) -> bool:
    return any("venue.approve" in ROLE_ACTIONS[g.role] for g in principal.grants)


def _register_form(ctx: Ctx, status: int = 200, **values: object) -> HTMLResponse:
    form = values.pop("form", {})
    assert isinstance(form, dict)
    hits = []
    if form.get("commune_q"):
        hits = search_areas(ctx.db, str(form["commune_q"]), level="commune", limit=20)
    return render(
        ctx,
        "venues/register.html",
        status=status,
        types=list_types(ctx.db),
        form=form,
        hits=hits,
        error=values.get("error"),
        duplicates=values.get("duplicates", []),
    )


@router.get("/register", response_class=HTMLResponse)
def register_page(
    ctx: CtxDep,
    name: Annotated[str, Query(max_length=200)] = "",
    type_code: Annotated[str, Query(max_length=40)] = "",
    street_address: Annotated[str, Query(max_length=300)] = "",
    contact_phone: Annotated[str, Query(max_length=30)] = "",
    commune_q: Annotated[str, Query(max_length=80)] = "",
    commune: Annotated[str, Query(max_length=12)] = "",
) -> HTMLResponse:
    ctx.require_principal()
    form = {
        "name": name,
        "type_code": type_code,
        "street_address": street_address,
        "contact_phone": contact_phone,
        "commune_q": commune_q,
        "commune": commune,
    }
    return _register_form(ctx, form=form)


@router.post("/register")
def register_submit(
    ctx: CtxDep,
    name: Annotated[str, Form(max_length=200)],
    type_code: Annotated[str, Form(max_length=40)],
    street_address: Annotated[str, Form(max_length=300)],
    commune: Annotated[str, Form(max_length=12)] = "",
    contact_phone: Annotated[str, Form(max_length=30)] = "",
    commune_q: Annotated[str, Form(max_length=80)] = "",
    confirm_duplicate: Annotated[bool, Form()] = False,
    csrf_token: CsrfForm = "",
) -> Response:
    principal = ctx.require_principal()
    check_csrf(ctx, csrf_token)
    form = {
        "name": name,
        "type_code": type_code,
        "street_address": street_address,
        "contact_phone": contact_phone,
        "commune_q": commune_q,
        "commune": commune,
    }
    try:
        scheme, _, code = commune.partition(":")
        if not code:
            raise AppError("venue.commune_required", "Vui lòng tìm và chọn xã, phường.")
        draft = make_draft(
            ctx.db,
            name=name,
            type_code=type_code,
            street_address=street_address,
            commune=get_area(ctx.db, scheme, "commune", code),
            contact_phone=contact_phone or None,
        )
        # An official creates the venue directly (approved); anyone else registers it.
        by_official = can(principal, "venue.create", Target(area=area_ref(draft.commune)))
        service = create_venue if by_official else register_venue
        with ctx.db.begin_nested():
            venue = service(
                ctx.db, ctx.actor, draft, now=ctx.now, confirm_duplicate=confirm_duplicate
            )
    except DuplicateSuspected as dup:
        return _register_form(
            ctx, status=409, form=form, error=dup, duplicates=dup.details["duplicates"]
        )
    except AppError as err:
        return _register_form(ctx, status=err.status, form=form, error=err)
    return _back(venue.id, "registered")


@router.get("/import", response_class=HTMLResponse)
def import_page(ctx: CtxDep) -> HTMLResponse:
    principal = ctx.require_principal()
    require_somewhere(principal, "venue.create")
    return _import_render(ctx, scheme=default_scheme(principal))


def _import_render(ctx: Ctx, status: int = 200, **values: object) -> HTMLResponse:
    return render(
        ctx,
        "venues/import.html",
        status=status,
        headers=TEMPLATE_HEADERS,
        max_rows=MAX_ROWS,
        preview_rows=PREVIEW_ROWS,
        types=list_types(ctx.db),
        **{"preview": None, "payload": "", "error": None, "done": None, **values},
    )


@router.get("/import/template.csv")
def import_template(ctx: CtxDep) -> Response:
    require_somewhere(ctx.require_principal(), "venue.create")
    body = "\ufeff" + ",".join(TEMPLATE_HEADERS) + "\r\n"
    return Response(
        body.encode(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="mau-nhap-dia-diem.csv"'},
    )


@router.post("/import/preview", response_class=HTMLResponse)
def import_preview_page(
    ctx: CtxDep,
    file: Annotated[UploadFile, File()],
    scheme: Annotated[str, Form(pattern=r"^(2021|2025)$")] = "2021",
    csrf_token: CsrfForm = "",
) -> HTMLResponse:
    ctx.require_principal()
    check_csrf(ctx, csrf_token)
    try:
        preview = preview_import(
            ctx.db, ctx.actor, file.file.read(), file.filename or "", scheme=scheme
        )
    except AppError as err:
        return _import_render(ctx, status=err.status, error=err, scheme=scheme)
    # The checked rows travel back with the confirm form and are checked again on commit,
    # so nothing needs to be stored between the two steps.
    payload = rows_as_csv(preview) if preview.accepted else ""
    return _import_render(ctx, preview=preview, payload=payload, scheme=scheme)


@router.post("/import/commit", response_class=HTMLResponse)
async def import_commit_page(ctx: CtxDep, request: Request) -> Response:
    # Read by hand: the checked rows of a big file exceed the default 1 MB per form field.
    form = await request.form(max_part_size=ctx.settings.max_upload_bytes)
    return await run_in_threadpool(
        _commit,
        ctx,
        str(form.get("payload", "")),
        str(form.get("scheme", "2021")),
        form.get("confirm_duplicates") in ("1", "true", "on"),
        str(form.get("csrf_token", "")),
    )


def _commit(ctx: Ctx, payload: str, scheme: str, confirm: bool, csrf_token: str) -> Response:
    ctx.require_principal()
    check_csrf(ctx, csrf_token)
    scheme = scheme if scheme in ("2021", "2025") else "2021"
    if payload.count("\n") > IN_REQUEST_ROWS + 1:  # the header line, then a line a row
        # A big file is written by a job, with a status page that shows its progress.
        job = queue_import(
            ctx.db, ctx.actor, payload, now=ctx.now, scheme=scheme, confirm_duplicates=confirm
        )
        return RedirectResponse(
            f"/jobs/{job.id}",
            status_code=303,
            background=BackgroundTask(wake_jobs, ctx.request.app),
        )
    try:
        with ctx.db.begin_nested():
            ids = commit_import(
                ctx.db,
                ctx.actor,
                payload.encode(),
                "preview.csv",
                now=ctx.now,
                scheme=scheme,
                confirm_duplicates=confirm,
            )
    except AppError as err:
        return _import_render(ctx, status=err.status, error=err, scheme=scheme)
    return _import_render(ctx, done=len(ids), scheme=scheme)


@router.get("/{venue_id}", response_class=HTMLResponse)
def venue_page(venue_id: int, ctx: CtxDep) -> HTMLResponse:
    principal = ctx.require_principal()
    venue, area = load_venue(ctx.db, principal, venue_id)
    target = venue_target(venue, area)
    venue_type = types_of(ctx.db, [venue])[venue.type_id]
    return render(
        ctx,
        "venues/detail.html",
        venue=venue,
        venue_type=venue_type,
        commune_name=area_names(ctx.db, [area])[area.id],
        staff=list_staff(ctx.db, principal, venue),
        types=list_types(ctx.db),
        locations=locations_of(ctx.db, venue),
        kinds=LOCATION_KINDS,
        may={
            action: can(principal, action, target)
            for action in ("venue.approve", "venue.manage", "venue.staff.manage")
        },
        devices=tokens_held_for(ctx.db, principal, target)
        if can(principal, "api_token.manage", target)
        else None,
        rejection=_rejection_reason(ctx, venue.id) if venue.status == "rejected" else None,
    )


def _rejection_reason(ctx: Ctx, venue_id: int) -> str | None:
    entry = ctx.db.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.action == "venue.reject",
            AuditEntry.object_type == "venue",
            AuditEntry.object_id == str(venue_id),
        )
        .order_by(AuditEntry.id.desc())
    ).first()
    return str(entry.details.get("reason")) if entry and entry.details else None


def _act(ctx: Ctx, venue_id: int, action: str, csrf_token: str, reason: str = "") -> Response:
    venue = _form_venue(ctx, venue_id, csrf_token)
    sms = ctx.request.app.state.sms_sender
    if action == "approve":
        approve_venue(ctx.db, ctx.actor, venue, now=ctx.now, sms=sms)
    elif action == "reject":
        reject_venue(ctx.db, ctx.actor, venue, now=ctx.now, reason=reason, sms=sms)
    elif action == "close":
        close_venue(ctx.db, ctx.actor, venue, now=ctx.now, reason=reason)
    else:
        reopen_venue(ctx.db, ctx.actor, venue, now=ctx.now)
    return _back(venue_id, action)


@router.post("/{venue_id}/edit")
def venue_edit_page(
    venue_id: int,
    ctx: CtxDep,
    name: Annotated[str, Form(max_length=200)],
    type_code: Annotated[str, Form(max_length=40)],
    street_address: Annotated[str, Form(max_length=300)],
    contact_phone: Annotated[str, Form(max_length=30)] = "",
    csrf_token: CsrfForm = "",
) -> Response:
    venue = _form_venue(ctx, venue_id, csrf_token)
    edit = VenueEdit(name, type_code, street_address, contact_phone)
    edit_venue(ctx.db, ctx.actor, venue, edit, now=ctx.now)
    return _back(venue_id, "edited")


@router.post("/{venue_id}/{action}")
def venue_action(
    venue_id: int,
    action: Annotated[str, Path(pattern=r"^(approve|reject|close|reopen)$")],
    ctx: CtxDep,
    reason: Annotated[str, Form(max_length=500)] = "",
    csrf_token: CsrfForm = "",
) -> Response:
    return _act(ctx, venue_id, action, csrf_token, reason)


@router.post("/{venue_id}/staff/add")
def staff_add_page(
    venue_id: int,
    ctx: CtxDep,
    phone: Annotated[str, Form(max_length=30)],
    full_name: Annotated[str, Form(max_length=120)] = "",
    csrf_token: CsrfForm = "",
) -> Response:
    venue = _form_venue(ctx, venue_id, csrf_token)
    add_staff(ctx.db, ctx.actor, venue, now=ctx.now, phone=phone, full_name=full_name)
    return _back(venue_id, "staff_added")


@router.post("/{venue_id}/staff/{user_id}/remove")
def staff_remove_page(
    venue_id: int, user_id: int, ctx: CtxDep, csrf_token: CsrfForm = ""
) -> Response:
    venue = _form_venue(ctx, venue_id, csrf_token)
    remove_staff(ctx.db, ctx.actor, venue, user_id, now=ctx.now)
    return _back(venue_id, "staff_removed")


@router.post("/{venue_id}/locations/add")
def location_add_page(
    venue_id: int,
    ctx: CtxDep,
    name: Annotated[str, Form(max_length=120)],
    kind: Annotated[str, Form(max_length=12)] = "gate",
    csrf_token: CsrfForm = "",
) -> Response:
    venue = _form_venue(ctx, venue_id, csrf_token)
    add_location(ctx.db, ctx.actor, venue, now=ctx.now, name=name, kind=kind)
    return _back(venue_id, "location_added")


@router.post("/{venue_id}/locations/{location_id}/remove")
def location_remove_page(
    venue_id: int, location_id: int, ctx: CtxDep, csrf_token: CsrfForm = ""
) -> Response:
    venue = _form_venue(ctx, venue_id, csrf_token)
    remove_location(ctx.db, ctx.actor, venue, location_id, now=ctx.now)
    return _back(venue_id, "location_removed")


@router.post("/{venue_id}/devices/add", response_class=HTMLResponse)
def device_add_page(
    venue_id: int,
    ctx: CtxDep,
    name: Annotated[str, Form(max_length=120)],
    csrf_token: CsrfForm = "",
) -> HTMLResponse:
    """A scanner device's token for this venue, shown once on the page this answers with (never
    in a redirect's address, which browsers and proxies keep)."""
    venue = _form_venue(ctx, venue_id, csrf_token)
    secret, token = create_api_token(
        ctx.db,
        ctx.actor,
        now=ctx.now,
        name=name,
        role=Role.VENUE_STAFF,
        object_type="venue",
        object_id=venue.id,
    )
    ctx.db.commit()  # before the secret is shown: a failed commit must not show a dead token
    response = render(
        ctx,
        "venues/device_created.html",
        status=201,
        venue=venue,
        token=token,
        secret=secret,
        max_batch=MAX_BATCH,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/{venue_id}/devices/{token_id}/revoke")
def device_revoke_page(
    venue_id: int, token_id: int, ctx: CtxDep, csrf_token: CsrfForm = ""
) -> Response:
    venue = _form_venue(ctx, venue_id, csrf_token)
    token = ctx.db.get(ApiToken, token_id)
    if token is None or (token.object_type, token.object_id) != ("venue", venue.id):
        raise NotFound("token.not_found", "Không tìm thấy mã truy cập.")
    revoke_api_token(ctx.db, ctx.actor, token.id, now=ctx.now)
    return _back(venue_id, "device_revoked")
