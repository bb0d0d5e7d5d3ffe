"""People over the API: one's own record and dependants, personal QR codes, movement history,
who looked at it; officials' purpose-bound look-ups, search and merges."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from phongdich.checkins.history import look_up_history, lookups_of, own_history
from phongdich.checkins.schemas import VisitRead
from phongdich.models import HistoryLookup, Person
from phongdich.people.personal_qr import issue_qr, qr_url, token_for
from phongdich.people.schemas import (
    HistoryRequest,
    LookupRead,
    MergeRequest,
    PersonRead,
    PersonWrite,
    QrRead,
)
from phongdich.people.service import (
    PersonDraft,
    add_dependant,
    ensure_self,
    get_person,
    merge_people,
    people_of,
    search_people,
    update_person,
)
from phongdich.web.api.checkins import visit_read
from phongdich.web.api.common import api_write, area_from_key
from phongdich.web.context import Ctx, CtxDep

router = APIRouter(prefix="/people", tags=["people"])


def person_read(p: Person) -> PersonRead:
    return PersonRead(
        id=p.id,
        full_name=p.full_name,
        id_type=p.id_type,
        id_number_masked=("…" + p.id_number[-4:]) if p.id_number else None,
        birth_year=p.birth_year,
        sex=p.sex,
        nationality=p.nationality,
        is_dependant=p.guardian_user_id is not None,
        relationship_label=p.relationship_label,
        id_flags=list(p.id_flags or []),
        has_qr=p.qr_serial is not None,
    )


def draft_of(ctx: Ctx, body: PersonWrite) -> PersonDraft:
    return PersonDraft(
        full_name=body.full_name,
        id_type=body.id_type,
        id_number=body.id_number,
        birth_date=body.birth_date,
        birth_year=body.birth_year,
        sex=body.sex,
        phone=body.phone,
        nationality=body.nationality,
        street_address=body.street_address,
        area=area_from_key(ctx.db, body.commune),
        relationship_label=body.relationship_label,
    )


def lookup_read(h: HistoryLookup) -> LookupRead:
    return LookupRead(
        person_id=h.person_id,
        at=h.at,
        by=h.actor_label,
        purpose=h.purpose,
        case_ref=h.case_ref,
        visits_shown=h.visits_shown,
    )


@router.get("/me", summary="Hồ sơ của tôi và người tôi khai hộ")
def me(ctx: CtxDep) -> list[PersonRead]:
    user = ctx.require_user()
    ensure_self(ctx.db, ctx.actor, user, now=ctx.now)
    return [person_read(p) for p in people_of(ctx.db, user)]


@router.put("/me", summary="Sửa hồ sơ của tôi")
def update_me(body: PersonWrite, ctx: CtxDep, request: Request) -> PersonRead:
    api_write(ctx, request)
    user = ctx.require_user()
    person = ensure_self(ctx.db, ctx.actor, user, now=ctx.now)
    return person_read(update_person(ctx.db, ctx.actor, person, draft_of(ctx, body), now=ctx.now))


@router.post("/me/dependants", status_code=201, summary="Thêm người thân không có điện thoại")
def add_me_dependant(body: PersonWrite, ctx: CtxDep, request: Request) -> PersonRead:
    api_write(ctx, request)
    user = ctx.require_user()
    return person_read(add_dependant(ctx.db, ctx.actor, user, draft_of(ctx, body), now=ctx.now))


@router.get("/me/history", summary="Lịch sử di chuyển của tôi và người thân")
def my_history(ctx: CtxDep) -> dict[int, list[VisitRead]]:
    user = ctx.require_user()
    history = own_history(ctx.db, ctx.actor, user, now=ctx.now)
    return {pid: [visit_read(v) for v in visits] for pid, visits in history.items()}


@router.get("/me/lookups", summary="Ai đã tra cứu lịch sử di chuyển của tôi")
def my_lookups(ctx: CtxDep) -> list[LookupRead]:
    user = ctx.require_user()
    return [lookup_read(h) for h in lookups_of(ctx.db, ctx.actor, user)]


@router.get("/{person_id}/qr", summary="Mã QR cá nhân hiện hành")
def qr(person_id: int, ctx: CtxDep) -> QrRead:
    ctx.require_principal()
    person = get_person(ctx.db, person_id)
    token = token_for(ctx.db, ctx.actor, person, now=ctx.now)
    return QrRead(person_id=person.id, token=token, url=qr_url(ctx.settings.base_url, token))


@router.post("/{person_id}/qr", summary="Cấp mã QR mới (mã cũ bị thu hồi)")
def reissue_qr(person_id: int, ctx: CtxDep, request: Request) -> QrRead:
    api_write(ctx, request)
    ctx.require_principal()
    person = get_person(ctx.db, person_id)
    token = issue_qr(ctx.db, ctx.actor, person, now=ctx.now)
    return QrRead(person_id=person.id, token=token, url=qr_url(ctx.settings.base_url, token))


@router.get("", summary="Cán bộ tìm người theo số giấy tờ, số điện thoại hoặc tên")
def search(ctx: CtxDep, q: Annotated[str, Query(min_length=2, max_length=100)]) -> list[PersonRead]:
    ctx.require_principal()
    return [person_read(p) for p in search_people(ctx.db, ctx.principal, q)]


@router.post("/{person_id}/history", summary="Cán bộ tra cứu lịch sử di chuyển (nêu mục đích)")
def history(person_id: int, body: HistoryRequest, ctx: CtxDep, request: Request) -> list[VisitRead]:
    api_write(ctx, request)
    ctx.require_principal()
    visits = look_up_history(
        ctx.db,
        ctx.actor,
        get_person(ctx.db, person_id),
        purpose=body.purpose,
        case_ref=body.case_ref,
        days=body.days,
        now=ctx.now,
    )
    return [visit_read(v) for v in visits]


@router.post("/merge", summary="Gộp hai hồ sơ trùng (giữ mọi lượt khai báo)")
def merge(body: MergeRequest, ctx: CtxDep, request: Request) -> PersonRead:
    api_write(ctx, request)
    ctx.require_principal()
    keep = get_person(ctx.db, body.keep_id)
    duplicate = get_person(ctx.db, body.duplicate_id)
    return person_read(merge_people(ctx.db, ctx.actor, keep, duplicate, now=ctx.now))
