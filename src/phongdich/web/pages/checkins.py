"""Check-in pages: the citizen's confirm page after scanning a poster, their visits with the
check-out button; the staff's one-tap page behind a personal QR, the scanner page (camera or
keyboard-wedge scanner, chip CCCD, typed ID, khai hộ) and the venue's list for today."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from phongdich.auth.policy import objects_for
from phongdich.checkins.history import lookups_of, own_history, venue_day, views
from phongdich.checkins.rules import DEFAULT_STAY, END_OF_DAY, EXPLICIT, NEXT_CHECKIN
from phongdich.checkins.scanner import identify, record_walk_in
from phongdich.checkins.service import (
    CITIZEN_SCAN,
    DEVICE_BATCH,
    HARDWARE_SCANNER,
    KHAI_HO,
    STAFF_SCAN,
    check_out,
    get_visit,
    open_visits,
    record_check_in,
)
from phongdich.core.errors import AppError, NotFound
from phongdich.core.i18n import N_
from phongdich.models import Person, Venue
from phongdich.people.personal_qr import resolve_person_token
from phongdich.people.service import ensure_self, get_person, people_of
from phongdich.venues.qr import resolve_token
from phongdich.web.context import Ctx, CtxDep, check_csrf
from phongdich.web.templating import env, render

router = APIRouter()
CsrfForm = Annotated[str, Form(max_length=100)]

SOURCE_LABELS = {
    CITIZEN_SCAN: N_("Tự quét mã địa điểm"),
    STAFF_SCAN: N_("Người kiểm soát quét"),
    HARDWARE_SCANNER: N_("Máy quét"),
    KHAI_HO: N_("Khai hộ"),
    DEVICE_BATCH: N_("Máy quét (gửi sau)"),
}
END_RULE_LABELS = {
    EXPLICIT: N_("Đã bấm ra về"),
    NEXT_CHECKIN: N_("Khai báo ở nơi khác"),
    DEFAULT_STAY: N_("Theo thời gian lưu lại thường lệ"),
    END_OF_DAY: N_("Hết ngày"),
}
env.globals["source_label"] = lambda s: SOURCE_LABELS.get(s, s)
env.globals["end_rule_label"] = lambda r: END_RULE_LABELS.get(r, r)


def _refused(ctx: Ctx, err: AppError) -> HTMLResponse:
    return render(
        ctx,
        "checkins/refused.html",
        status=err.status,
        code=err.code,
        message=err.text(ctx.gettext),
    )


# The citizen: confirm after scanning a poster, then see visits and check out.


@router.get("/v/{token}/checkin", response_class=HTMLResponse)
def confirm(token: str, ctx: CtxDep) -> HTMLResponse:
    user = ctx.require_user()
    try:
        place = resolve_token(ctx.db, token)
    except AppError as err:
        return _refused(ctx, err)
    ensure_self(ctx.db, ctx.actor, user, now=ctx.now)
    return render(
        ctx, "checkins/confirm.html", place=place, token=token,
        people=people_of(ctx.db, user),
    )  # fmt: skip


@router.post("/checkin")
def citizen_check_in(
    ctx: CtxDep,
    venue_token: Annotated[str, Form(max_length=1000)],
    person_id: Annotated[list[int], Form()],
    csrf_token: CsrfForm = "",
) -> Response:
    user = ctx.require_user()
    check_csrf(ctx, csrf_token)
    try:
        place = resolve_token(ctx.db, venue_token)
    except AppError as err:
        return _refused(ctx, err)
    allowed = {p.id for p in people_of(ctx.db, user)}
    for pid in dict.fromkeys(person_id):
        if pid not in allowed:
            raise NotFound("person.not_found", "Không tìm thấy người này.")
        record_check_in(
            ctx.db,
            ctx.actor,
            person=get_person(ctx.db, pid),
            venue=place.venue,
            location=place.location,
            now=ctx.now,
            source=CITIZEN_SCAN,
        )
    return RedirectResponse("/me/visits?done=in", status_code=303)


@router.get("/me/visits", response_class=HTMLResponse)
def my_visits(ctx: CtxDep, done: Annotated[str, Query(max_length=10)] = "") -> HTMLResponse:
    user = ctx.require_user()
    ensure_self(ctx.db, ctx.actor, user, now=ctx.now)
    people = people_of(ctx.db, user)
    current = views(ctx.db, open_visits(ctx.db, [p.id for p in people], now=ctx.now))
    days = ctx.settings.checkin_retention_days  # a citizen sees all that is kept of them
    return render(
        ctx, "checkins/my_visits.html", people=people, current=current, done=done, days=days,
        history=own_history(ctx.db, ctx.actor, user, now=ctx.now, days=days),
        lookups=lookups_of(ctx.db, ctx.actor, user),
    )  # fmt: skip


@router.post("/checkins/{visit_id}/checkout")
def checkout(
    visit_id: int,
    ctx: CtxDep,
    csrf_token: CsrfForm = "",
    next: Annotated[str, Form(max_length=200)] = "/me/visits",
) -> Response:
    ctx.require_user()
    check_csrf(ctx, csrf_token)
    check_out(ctx.db, ctx.actor, get_visit(ctx.db, visit_id), now=ctx.now)
    target = next if next.startswith("/") and not next.startswith("//") else "/me/visits"
    return RedirectResponse(target + ("&" if "?" in target else "?") + "done=out", 303)


# Staff: the page behind a personal QR, the scanner page, today's list.


def _staff_venues(ctx: Ctx) -> list[Venue]:
    if ctx.principal is None:
        return []
    ids = objects_for(ctx.principal, "venue.scan", "venue")
    if not ids:
        return []
    return list(ctx.db.scalars(select(Venue).where(Venue.id.in_(ids)).order_by(Venue.name)))


@router.get("/p/{token}", response_class=HTMLResponse)
def person_qr(token: str, ctx: CtxDep) -> HTMLResponse:
    """Opened by a phone camera: staff get a one-tap "record entry"; others a plain notice."""
    try:
        person = resolve_person_token(ctx.db, token)
    except AppError as err:
        return _refused(ctx, err)
    venues = _staff_venues(ctx)
    return render(
        ctx, "checkins/person_qr.html", person=person if venues else None, venues=venues,
        token=token, recorded=None,
    )  # fmt: skip


@router.post("/p/{token}/record", response_class=HTMLResponse)
def record_entry(
    token: str, ctx: CtxDep, venue_id: Annotated[int, Form()], csrf_token: CsrfForm = ""
) -> HTMLResponse:
    ctx.require_user()
    check_csrf(ctx, csrf_token)
    try:
        person = resolve_person_token(ctx.db, token)
    except AppError as err:
        return _refused(ctx, err)
    venue = _venue(ctx, venue_id)
    recorded = record_check_in(
        ctx.db, ctx.actor, person=person, venue=venue, now=ctx.now, source=STAFF_SCAN
    )
    return render(
        ctx, "checkins/person_qr.html", person=person, venues=_staff_venues(ctx), token=token,
        recorded=(recorded.outcome, venue),
    )  # fmt: skip


def _venue(ctx: Ctx, venue_id: int) -> Venue:
    venue = ctx.db.get(Venue, venue_id)
    if venue is None:
        raise NotFound("venue.not_found", "Không tìm thấy địa điểm.")
    return venue


def _scanner(
    ctx: Ctx,
    venue_id: int | None,
    *,
    result: tuple[str, Person, str] | None = None,
    error: AppError | None = None,
    walk_in: dict[str, str] | None = None,
    checked_out: bool = False,
) -> HTMLResponse:
    venues = _staff_venues(ctx)
    if not venues:
        return _refused(
            ctx,
            AppError(
                "forbidden",
                "Trang quét chỉ dành cho chủ địa điểm và người kiểm soát.",
                status=403,
            ),
        )
    venue = next((v for v in venues if v.id == venue_id), venues[0])
    day = venue_day(ctx.db, ctx.actor, venue, now=ctx.now, limit=10)
    return render(
        ctx, "checkins/scanner.html", status=error.status if error else 200, venues=venues,
        venue=venue, day=day, result=result, error=error, walk_in=walk_in or {}, now=ctx.now,
        checked_out=checked_out,
    )  # fmt: skip


@router.get("/staff/scanner", response_class=HTMLResponse)
def scanner(
    ctx: CtxDep,
    venue: Annotated[int | None, Query()] = None,
    done: Annotated[str, Query(max_length=10)] = "",
) -> HTMLResponse:
    ctx.require_user()
    return _scanner(ctx, venue, checked_out=done == "out")


@router.post("/staff/scanner", response_class=HTMLResponse)
def scanned(
    ctx: CtxDep,
    venue_id: Annotated[int, Form()],
    code: Annotated[str, Form(max_length=1000)] = "",
    client_scan_id: Annotated[str, Form(max_length=64)] = "",
    csrf_token: CsrfForm = "",
) -> HTMLResponse:
    """What the wedge scanner typed (or a person typed): personal QR, chip CCCD or ID number.
    The page's script sends an id with each scan, so that a scan it also kept for later (its
    answer did not arrive) is not recorded twice (`static/scanner.js`)."""
    ctx.require_user()
    check_csrf(ctx, csrf_token)
    venue = _venue(ctx, venue_id)
    try:
        with ctx.db.begin_nested():
            found = identify(ctx.db, ctx.actor, code, now=ctx.now)
            recorded = record_check_in(
                ctx.db, ctx.actor, person=found.person, venue=venue, now=ctx.now,
                source=found.source, client_scan_id=client_scan_id or None,
            )  # fmt: skip
    except AppError as err:
        prefill = err.details if err.code == "scanner.person_unknown" else None
        return _scanner(ctx, venue_id, error=err, walk_in=prefill)
    return _scanner(ctx, venue_id, result=(recorded.outcome, found.person, found.source))


@router.post("/staff/walk-in", response_class=HTMLResponse)
def walk_in(
    ctx: CtxDep,
    venue_id: Annotated[int, Form()],
    csrf_token: CsrfForm = "",
    full_name: Annotated[str, Form(max_length=120)] = "",
    id_type: Annotated[str, Form(max_length=10)] = "none",
    id_number: Annotated[str, Form(max_length=30)] = "",
    phone: Annotated[str, Form(max_length=30)] = "",
    birth_year: Annotated[str, Form(max_length=4)] = "",
) -> HTMLResponse:
    """Khai hộ: someone without a phone, by ID number, or by phone and name."""
    ctx.require_user()
    check_csrf(ctx, csrf_token)
    try:
        with ctx.db.begin_nested():
            recorded, person = record_walk_in(
                ctx.db, ctx.actor, _venue(ctx, venue_id), now=ctx.now,
                full_name=full_name or None, id_type=id_type if id_number else "none",
                id_number=id_number or None, phone=phone or None,
                birth_year=int(birth_year) if birth_year.isdigit() else None,
            )  # fmt: skip
    except AppError as err:
        return _scanner(ctx, venue_id, error=err, walk_in={"id_number": id_number})
    return _scanner(ctx, venue_id, result=(recorded.outcome, person, KHAI_HO))


@router.get("/staff/venues/{venue_id}/today", response_class=HTMLResponse)
def today(
    venue_id: int, ctx: CtxDep, done: Annotated[str, Query(max_length=10)] = ""
) -> HTMLResponse:
    ctx.require_principal()
    day = venue_day(ctx.db, ctx.actor, _venue(ctx, venue_id), now=ctx.now)
    return render(ctx, "checkins/today.html", day=day, now=ctx.now, done=done)
