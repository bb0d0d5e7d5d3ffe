"""Check-ins over the API: staff and device scans, device batches, khai hộ, check-out, and a
venue's list for today."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError

from phongdich.checkins.batch import RawScan, record_batch
from phongdich.checkins.history import VisitView, venue_day, views
from phongdich.checkins.scanner import identify, record_walk_in
from phongdich.checkins.schemas import (
    BatchRequest,
    BatchResultRead,
    CitizenCheckIn,
    PersonBrief,
    RowErrorRead,
    ScanRequest,
    ScanResult,
    VenueDayRead,
    VisitRead,
    WalkInRequest,
)
from phongdich.checkins.service import (
    CITIZEN_SCAN,
    HARDWARE_SCANNER,
    STAFF_SCAN,
    Recorded,
    check_out,
    get_visit,
    record_check_in,
)
from phongdich.core.errors import AppError, NotFound
from phongdich.models import Person, Venue, VenueLocation
from phongdich.people.service import get_person
from phongdich.venues.qr import resolve_token
from phongdich.web.api.common import api_write
from phongdich.web.context import Ctx, CtxDep

router = APIRouter(prefix="/checkins", tags=["checkins"])


def visit_read(v: VisitView) -> VisitRead:
    return VisitRead(**v.__dict__)


def _venue(ctx: Ctx, venue_id: int) -> Venue:
    venue = ctx.db.get(Venue, venue_id)
    if venue is None:
        raise NotFound("venue.not_found", "Không tìm thấy địa điểm.", {"venue_id": venue_id})
    return venue


def _location(ctx: Ctx, location_id: int | None) -> VenueLocation | None:
    if location_id is None:
        return None
    location = ctx.db.get(VenueLocation, location_id)
    if location is None:
        raise NotFound("venue.location_not_found", "Không tìm thấy khu vực.")
    return location


def _result(recorded: Recorded, person: Person) -> ScanResult:
    return ScanResult(
        outcome=recorded.outcome,
        visit_id=recorded.visit.id,
        person=PersonBrief(id=person.id, full_name=person.full_name, birth_year=person.birth_year),
    )


# SQLite has one writer at a time. Threads that each open a write transaction and wait for the
# file lock sleep in SQLite's busy handler (1, 2, 5, 10 … ms); queueing them on a lock in the
# process instead lets each scan commit the moment the previous one has.
_SQLITE_WRITER = threading.Lock()


@router.post("/scan", summary="Quét mã QR cá nhân hoặc thẻ CCCD gắn chip tại địa điểm")
def scan(body: ScanRequest, ctx: CtxDep, request: Request) -> ScanResult:
    """The general path: cookie-signed-in staff, chip-card strings, typed IDs, area-wide tokens.
    A device token's scan of a personal QR is answered before the router by the scan lane
    (`web.api.scan_lane`), with the same results."""
    api_write(ctx, request)
    ctx.require_principal()
    return _one_writer(ctx, lambda: _scan(body, ctx))


def _one_writer[T](ctx: Ctx, work: Callable[[], T]) -> T:
    """Run a write; on SQLite, one request at a time in this process, committed in turn."""
    if ctx.db.get_bind().dialect.name != "sqlite":
        return work()
    with _SQLITE_WRITER:
        result = work()
        ctx.db.commit()  # inside the lock; the request's own commit then has nothing to do
        return result


def _scan(body: ScanRequest, ctx: Ctx) -> ScanResult:
    venue = _venue(ctx, body.venue_id)
    found = identify(ctx.db, ctx.actor, body.code, now=ctx.now)
    recorded = record_check_in(
        ctx.db,
        ctx.actor,
        person=found.person,
        venue=venue,
        now=ctx.now,
        at=body.at,
        location=_location(ctx, body.location_id),
        source=(HARDWARE_SCANNER if ctx.via_token else STAFF_SCAN)
        if found.source == HARDWARE_SCANNER
        else found.source,
        device_token_id=ctx.principal.token_id if ctx.principal else None,
        client_scan_id=body.client_scan_id,
    )
    ctx.db.flush()
    return _result(recorded, found.person)


def _raw_scan(row: Any) -> RawScan:
    try:
        if not isinstance(row, dict):
            raise TypeError("a scan is a JSON object")
        at = row.get("at")
        return RawScan(
            client_scan_id=str(row.get("client_scan_id") or ""),
            code=str(row["code"]),
            at=datetime.fromisoformat(at) if isinstance(at, str) else _missing("at"),
            venue_id=int(row["venue_id"]),
            location_id=int(row["location_id"]) if row.get("location_id") is not None else None,
        )
    except (KeyError, TypeError, ValueError, ValidationError) as err:
        raise AppError(
            "checkin.row_invalid",
            "Dòng dữ liệu thiếu hoặc sai trường (cần client_scan_id, code, at, venue_id).",
            {"problem": str(err)[:200]},
        ) from err


def _missing(field: str) -> datetime:
    raise KeyError(field)


@router.post("/batch", summary="Thiết bị gửi các lượt quét khi mất mạng (gửi lại an toàn)")
def batch(body: BatchRequest, ctx: CtxDep, request: Request) -> BatchResultRead:
    """Good rows are stored and each bad row is reported (index, client id, code, message);
    a row already stored comes back as a duplicate, so a retried upload stores nothing twice."""
    api_write(ctx, request)
    principal = ctx.require_principal()
    if not ctx.via_token or principal.token_id is None:
        raise AppError(
            "checkin.batch_needs_device",
            "Chỉ thiết bị quét có mã truy cập mới gửi được lô lượt quét.",
            status=403,
        )
    scans: list[RawScan] = []
    early: list[RowErrorRead] = []
    positions: list[int] = []
    for i, row in enumerate(body.scans):
        try:
            scans.append(_raw_scan(row))
            positions.append(i)
        except AppError as err:
            cid = row.get("client_scan_id") if isinstance(row, dict) else None
            cid = str(cid)[:64] if cid is not None else None
            early.append(
                RowErrorRead(index=i, client_scan_id=cid, code=err.code, message=err.message)
            )
    token_id = principal.token_id
    result = _one_writer(
        ctx,
        lambda: record_batch(ctx.db, ctx.actor, device_token_id=token_id, scans=scans, now=ctx.now),
    )
    errors = early + [
        RowErrorRead(
            index=positions[e.index],
            client_scan_id=e.client_scan_id,
            code=e.code,
            message=e.message,
        )
        for e in result.errors
    ]
    return BatchResultRead(
        received=len(body.scans),
        stored=result.stored,
        extended=result.extended,
        duplicates=result.duplicates,
        errors=sorted(errors, key=lambda e: e.index),
    )


@router.post("/walk-in", summary="Khai hộ người không có điện thoại")
def khai_ho(body: WalkInRequest, ctx: CtxDep, request: Request) -> ScanResult:
    api_write(ctx, request)
    ctx.require_principal()
    recorded, person = record_walk_in(
        ctx.db,
        ctx.actor,
        _venue(ctx, body.venue_id),
        now=ctx.now,
        full_name=body.full_name,
        id_type=body.id_type,
        id_number=body.id_number,
        phone=body.phone,
        birth_year=body.birth_year,
    )
    ctx.db.flush()
    return _result(recorded, person)


@router.post("/citizen", summary="Người dân khai báo vào địa điểm (cho mình và người thân)")
def citizen_check_in(body: CitizenCheckIn, ctx: CtxDep, request: Request) -> list[VisitRead]:
    api_write(ctx, request)
    ctx.require_user()
    place = resolve_token(ctx.db, body.venue_token)
    recorded = [
        record_check_in(
            ctx.db,
            ctx.actor,
            person=get_person(ctx.db, pid),
            venue=place.venue,
            location=place.location,
            now=ctx.now,
            source=CITIZEN_SCAN,
        ).visit
        for pid in dict.fromkeys(body.person_ids)
    ]
    ctx.db.flush()
    return [visit_read(v) for v in views(ctx.db, recorded)]


@router.post("/{visit_id}/checkout", summary="Ra về (kết thúc lượt)")
def checkout(visit_id: int, ctx: CtxDep, request: Request) -> VisitRead:
    api_write(ctx, request)
    ctx.require_principal()
    visit = check_out(ctx.db, ctx.actor, get_visit(ctx.db, visit_id), now=ctx.now)
    return visit_read(views(ctx.db, [visit])[0])


@router.get("/venues/{venue_id}/today", summary="Danh sách vào/ra hôm nay và số người đang có mặt")
def today(venue_id: int, ctx: CtxDep) -> VenueDayRead:
    ctx.require_principal()
    day = venue_day(ctx.db, ctx.actor, _venue(ctx, venue_id), now=ctx.now)
    return VenueDayRead(
        venue_id=venue_id,
        occupancy=day.occupancy,
        total=day.total,
        visits=[visit_read(v) for v in day.visits],
    )
