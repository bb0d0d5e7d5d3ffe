"""Venues: register, list within one's scope, approve, staff, sub-locations, types, imports."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from sqlalchemy.orm import Session

from phongdich.areas.queries import get_area
from phongdich.areas.schemas import AreaRead
from phongdich.auth.policy import Principal, require_somewhere
from phongdich.models import Venue, VenueType
from phongdich.venues.imports import ImportPreview, commit_import, preview_import
from phongdich.venues.queries import (
    STATUSES,
    VenueFilter,
    area_names,
    areas_of,
    load_venue,
    types_of,
    visible_venues,
)
from phongdich.venues.schemas import (
    ImportErrorRead,
    ImportPreviewRead,
    ImportResult,
    ImportRowRead,
    ImportWarningRead,
    LocationCreate,
    LocationRead,
    Reason,
    StaffAdd,
    StaffRead,
    VenueChange,
    VenueCreate,
    VenuePage,
    VenueRead,
    VenueTypeCreate,
    VenueTypeRead,
)
from phongdich.venues.service import (
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
from phongdich.venues.types import create_type, list_types
from phongdich.web.api.common import accepts_upload, api_write
from phongdich.web.context import Ctx, CtxDep

router = APIRouter(prefix="/venues", tags=["venues"])

StatusQuery = Annotated[str | None, Query(pattern="^(" + "|".join(STATUSES) + ")$")]
SchemeForm = Annotated[str, Form(pattern=r"^(2021|2025)$")]


def type_read(t: VenueType) -> VenueTypeRead:
    return VenueTypeRead(
        code=t.code,
        name=t.name,
        name_en=t.name_en,
        default_stay_minutes=t.default_stay_minutes,
        is_builtin=t.is_builtin,
    )


def venue_reads(db: Session, venues: list[Venue]) -> list[VenueRead]:
    """API shapes for many venues with three queries in all (types, communes, their parents)."""
    types, areas = types_of(db, venues), areas_of(db, venues)
    names = area_names(db, list(areas.values()))
    out = []
    for v in venues:
        a = areas[v.area_id]
        out.append(
            VenueRead(
                id=v.id,
                name=v.name,
                type=type_read(types[v.type_id]),
                street_address=v.street_address,
                commune=AreaRead(
                    scheme=a.scheme,
                    level=a.level,
                    code=a.code,
                    name=a.name,
                    full_name=names[a.id],
                    division_type=a.division_type,
                ),
                contact_phone=v.contact_phone,
                owner_user_id=v.owner_user_id,
                status=v.status,
                registered_via=v.registered_via,
                short_code=v.short_code,
                created_at=v.created_at,
                approved_at=v.approved_at,
                closed_at=v.closed_at,
                last_scan_at=v.last_scan_at,
            )
        )
    return out


def _one(ctx: Ctx, venue: Venue) -> VenueRead:
    return venue_reads(ctx.db, [venue])[0]


def preview_read(preview: ImportPreview, limit: int = 200) -> ImportPreviewRead:
    return ImportPreviewRead(
        accepted=preview.accepted,
        row_count=len(preview.rows),
        errors=[ImportErrorRead(**e.__dict__) for e in preview.errors],
        warnings=[
            ImportWarningRead(row=w.row, message=w.message, venue_ids=list(w.venue_ids))
            for w in preview.warnings
        ],
        rows=[
            ImportRowRead(
                row=r.row,
                name=r.draft.name,
                type=r.draft.type.name,
                street_address=r.draft.street_address,
                commune=r.commune_name,
                contact_phone=r.draft.contact_phone,
            )
            for r in preview.rows[:limit]
            if r.draft is not None
        ],
    )


def default_scheme(principal: Principal) -> str:
    """The scheme of the official's own area: the codes in their files are in that scheme."""
    return next((g.area.scheme for g in principal.grants if g.area is not None), "2021")


# Static paths first, so that "/types" and "/import" are never read as a venue id.


@router.get("/types", summary="Các loại địa điểm")
def types(ctx: CtxDep) -> list[VenueTypeRead]:
    return [type_read(t) for t in list_types(ctx.db)]


@router.post("/types", status_code=201, summary="Thêm loại địa điểm (quản trị)")
def add_type(body: VenueTypeCreate, ctx: CtxDep, request: Request) -> VenueTypeRead:
    api_write(ctx, request)
    ctx.require_principal()
    row = create_type(ctx.db, ctx.actor, now=ctx.now, **body.model_dump())
    return type_read(row)


@router.post("/import/preview", summary="Xem trước tệp nhập địa điểm (.xlsx hoặc .csv)")
@accepts_upload
def import_preview(
    ctx: CtxDep,
    request: Request,
    file: Annotated[UploadFile, File()],
    scheme: SchemeForm | None = None,
) -> ImportPreviewRead:
    api_write(ctx, request)
    principal = ctx.require_principal()
    content = file.file.read()
    preview = preview_import(
        ctx.db,
        ctx.actor,
        content,
        file.filename or "",
        scheme=scheme or default_scheme(principal),
    )
    return preview_read(preview)


@router.post("/import", status_code=201, summary="Nhập địa điểm từ tệp (tất cả hoặc không)")
@accepts_upload
def import_commit(
    ctx: CtxDep,
    request: Request,
    file: Annotated[UploadFile, File()],
    scheme: SchemeForm | None = None,
    confirm_duplicates: Annotated[bool, Form()] = False,
) -> ImportResult:
    api_write(ctx, request)
    principal = ctx.require_principal()
    ids = commit_import(
        ctx.db,
        ctx.actor,
        file.file.read(),
        file.filename or "",
        now=ctx.now,
        scheme=scheme or default_scheme(principal),
        confirm_duplicates=confirm_duplicates,
    )
    return ImportResult(created=len(ids), venue_ids=ids)


@router.get("", summary="Địa điểm tôi được xem (lọc, phân trang)")
def list_venues(
    ctx: CtxDep,
    status: StatusQuery = None,
    area_scheme: Annotated[str | None, Query(pattern=r"^(2021|2025)$")] = None,
    area_level: Annotated[str | None, Query(pattern=r"^(province|district|commune)$")] = None,
    area_code: Annotated[str | None, Query(pattern=r"^\d{2,5}$")] = None,
    type: Annotated[str | None, Query(max_length=40)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 50,
) -> VenuePage:
    principal = ctx.require_principal()
    require_somewhere(principal, "venue.read")
    within = None
    if area_code:
        within = get_area(ctx.db, area_scheme or "2021", area_level or "commune", area_code)
    flt = VenueFilter(status=status, within=within, type_code=type, search=q)
    rows, total = visible_venues(ctx.db, principal, flt, page=page, per_page=per_page)
    return VenuePage(items=venue_reads(ctx.db, rows), total=total, page=page, per_page=per_page)


def _create(
    ctx: CtxDep, request: Request, body: VenueCreate, service: Callable[..., Venue]
) -> VenueRead:
    api_write(ctx, request)
    ctx.require_principal()
    draft = make_draft(
        ctx.db,
        name=body.name,
        type_code=body.type_code,
        street_address=body.street_address,
        commune=get_area(ctx.db, body.commune.scheme, body.commune.level, body.commune.code),
        contact_phone=body.contact_phone,
    )
    venue = service(ctx.db, ctx.actor, draft, now=ctx.now, confirm_duplicate=body.confirm_duplicate)
    return _one(ctx, venue)


@router.post("/register", status_code=201, summary="Chủ địa điểm đăng ký địa điểm")
def register(body: VenueCreate, ctx: CtxDep, request: Request) -> VenueRead:
    return _create(ctx, request, body, register_venue)


@router.post("", status_code=201, summary="Cán bộ tạo địa điểm trong địa bàn")
def create(body: VenueCreate, ctx: CtxDep, request: Request) -> VenueRead:
    return _create(ctx, request, body, create_venue)


@router.get("/{venue_id}", summary="Một địa điểm")
def get_one(venue_id: int, ctx: CtxDep) -> VenueRead:
    venue, _area = load_venue(ctx.db, ctx.require_principal(), venue_id)
    return _one(ctx, venue)


@router.patch("/{venue_id}", summary="Sửa tên, loại, địa chỉ, điện thoại của địa điểm")
def edit(venue_id: int, body: VenueChange, ctx: CtxDep, request: Request) -> VenueRead:
    """Fields left out stay as they are; an empty `contact_phone` removes the phone. The owner
    correcting a refused registration sends it back for review."""
    api_write(ctx, request)
    venue, _area = load_venue(ctx.db, ctx.require_principal(), venue_id)
    edit_venue(ctx.db, ctx.actor, venue, VenueEdit(**body.model_dump()), now=ctx.now)
    return _one(ctx, venue)


@router.post("/{venue_id}/approve", summary="Duyệt địa điểm")
def approve(venue_id: int, ctx: CtxDep, request: Request) -> VenueRead:
    api_write(ctx, request)
    venue, _area = load_venue(ctx.db, ctx.require_principal(), venue_id)
    sms = ctx.request.app.state.sms_sender
    return _one(ctx, approve_venue(ctx.db, ctx.actor, venue, now=ctx.now, sms=sms))


@router.post("/{venue_id}/reject", summary="Từ chối địa điểm (kèm lý do)")
def reject(venue_id: int, body: Reason, ctx: CtxDep, request: Request) -> VenueRead:
    api_write(ctx, request)
    venue, _area = load_venue(ctx.db, ctx.require_principal(), venue_id)
    sms = ctx.request.app.state.sms_sender
    return _one(
        ctx, reject_venue(ctx.db, ctx.actor, venue, now=ctx.now, reason=body.reason, sms=sms)
    )


@router.post("/{venue_id}/close", summary="Đóng địa điểm")
def close(venue_id: int, body: Reason, ctx: CtxDep, request: Request) -> VenueRead:
    api_write(ctx, request)
    venue, _area = load_venue(ctx.db, ctx.require_principal(), venue_id)
    return _one(ctx, close_venue(ctx.db, ctx.actor, venue, now=ctx.now, reason=body.reason))


@router.post("/{venue_id}/reopen", summary="Mở lại địa điểm")
def reopen(venue_id: int, ctx: CtxDep, request: Request) -> VenueRead:
    api_write(ctx, request)
    venue, _area = load_venue(ctx.db, ctx.require_principal(), venue_id)
    return _one(ctx, reopen_venue(ctx.db, ctx.actor, venue, now=ctx.now))


@router.get("/{venue_id}/staff", summary="Chủ và nhân viên của địa điểm")
def staff(venue_id: int, ctx: CtxDep) -> list[StaffRead]:
    principal = ctx.require_principal()
    venue, _area = load_venue(ctx.db, principal, venue_id)
    return [StaffRead(**m.__dict__) for m in list_staff(ctx.db, principal, venue)]


@router.post("/{venue_id}/staff", status_code=201, summary="Thêm nhân viên bằng số điện thoại")
def staff_add(venue_id: int, body: StaffAdd, ctx: CtxDep, request: Request) -> list[StaffRead]:
    api_write(ctx, request)
    principal = ctx.require_principal()
    venue, _area = load_venue(ctx.db, principal, venue_id)
    add_staff(ctx.db, ctx.actor, venue, now=ctx.now, phone=body.phone, full_name=body.full_name)
    return [StaffRead(**m.__dict__) for m in list_staff(ctx.db, principal, venue)]


@router.delete("/{venue_id}/staff/{user_id}", summary="Bỏ một nhân viên")
def staff_remove(venue_id: int, user_id: int, ctx: CtxDep, request: Request) -> list[StaffRead]:
    api_write(ctx, request)
    principal = ctx.require_principal()
    venue, _area = load_venue(ctx.db, principal, venue_id)
    remove_staff(ctx.db, ctx.actor, venue, user_id, now=ctx.now)
    return [StaffRead(**m.__dict__) for m in list_staff(ctx.db, principal, venue)]


@router.get("/{venue_id}/locations", summary="Vị trí trong địa điểm (cổng, tầng, phòng)")
def locations(venue_id: int, ctx: CtxDep) -> list[LocationRead]:
    venue, _area = load_venue(ctx.db, ctx.require_principal(), venue_id)
    return [
        LocationRead.model_validate(loc, from_attributes=True)
        for loc in locations_of(ctx.db, venue)
    ]


@router.post("/{venue_id}/locations", status_code=201, summary="Thêm vị trí")
def location_add(
    venue_id: int, body: LocationCreate, ctx: CtxDep, request: Request
) -> LocationRead:
    api_write(ctx, request)
    venue, _area = load_venue(ctx.db, ctx.require_principal(), venue_id)
    loc = add_location(ctx.db, ctx.actor, venue, now=ctx.now, name=body.name, kind=body.kind)
    return LocationRead.model_validate(loc, from_attributes=True)


@router.delete("/{venue_id}/locations/{location_id}", status_code=204, summary="Xoá vị trí")
def location_remove(venue_id: int, location_id: int, ctx: CtxDep, request: Request) -> None:
    api_write(ctx, request)
    venue, _area = load_venue(ctx.db, ctx.require_principal(), venue_id)
    remove_location(ctx.db, ctx.actor, venue, location_id, now=ctx.now)
