"""People pages: my personal QR (and my dependants'), the printable card, my profile,
adding a dependant; officials' search, purpose-bound history look-up and merging."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from phongdich.auth.policy import require_somewhere
from phongdich.auth.roles import ROLE_ACTIONS
from phongdich.checkins.history import HISTORY_DAYS, look_up_history
from phongdich.core import qr
from phongdich.core.clock import format_date
from phongdich.core.errors import AppError
from phongdich.people.cards import CardData, card_pdf
from phongdich.people.personal_qr import current_code, issue_qr, qr_url, token_for
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
from phongdich.web.context import Ctx, CtxDep, check_csrf
from phongdich.web.templating import render

router = APIRouter()
CsrfForm = Annotated[str, Form(max_length=100)]
Text = Annotated[str, Form(max_length=300)]


def _int(value: str) -> int | None:
    value = value.strip()
    return int(value) if value.isdigit() else None


def _qr_page(ctx: Ctx, *, error: AppError | None = None, done: str = "") -> HTMLResponse:
    user = ctx.require_user()
    ensure_self(ctx.db, ctx.actor, user, now=ctx.now)
    cards = []
    for person in people_of(ctx.db, user):
        token = token_for(ctx.db, ctx.actor, person, now=ctx.now)
        url = qr_url(ctx.settings.base_url, token)
        cards.append((person, url, qr.svg_bytes(url, scale=5).decode()))
    return render(
        ctx, "people/my_qr.html", status=error.status if error else 200, cards=cards,
        error=error, done=done,
    )  # fmt: skip


@router.get("/me/qr", response_class=HTMLResponse)
def my_qr(ctx: CtxDep, done: Annotated[str, Query(max_length=20)] = "") -> HTMLResponse:
    return _qr_page(ctx, done=done)


@router.post("/me/qr/{person_id}/reissue")
def reissue(person_id: int, ctx: CtxDep, csrf_token: CsrfForm = "") -> Response:
    ctx.require_user()
    check_csrf(ctx, csrf_token)
    issue_qr(ctx.db, ctx.actor, get_person(ctx.db, person_id), now=ctx.now)
    return RedirectResponse("/me/qr?done=reissued", status_code=303)


@router.get("/me/qr/{person_id}/card.pdf")
def card(person_id: int, ctx: CtxDep) -> Response:
    ctx.require_user()
    person = get_person(ctx.db, person_id)
    token = token_for(ctx.db, ctx.actor, person, now=ctx.now)
    code = current_code(ctx.db, person)
    pdf = card_pdf(
        CardData(
            full_name=person.full_name,
            birth_year=person.birth_year,
            url=qr_url(ctx.settings.base_url, token),
            issued_on=format_date(code.issued_at if code else ctx.now),
        )
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"content-disposition": f'inline; filename="the-qr-{person.id}.pdf"'},
    )


@router.post("/me/dependants")
def new_dependant(
    ctx: CtxDep,
    full_name: Text,
    csrf_token: CsrfForm = "",
    birth_year: Annotated[str, Form(max_length=4)] = "",
    sex: Annotated[str, Form(max_length=6)] = "",
    relationship_label: Annotated[str, Form(max_length=40)] = "",
    id_type: Annotated[str, Form(max_length=10)] = "none",
    id_number: Annotated[str, Form(max_length=30)] = "",
) -> Response:
    user = ctx.require_user()
    check_csrf(ctx, csrf_token)
    try:
        draft = PersonDraft(
            full_name=full_name, birth_year=_int(birth_year), sex=sex or None,
            relationship_label=relationship_label, id_type=id_type or "none",
            id_number=id_number or None,
        )  # fmt: skip
        with ctx.db.begin_nested():
            add_dependant(ctx.db, ctx.actor, user, draft, now=ctx.now)
    except AppError as err:
        return _qr_page(ctx, error=err)
    return RedirectResponse("/me/qr?done=dependant", status_code=303)


@router.get("/me/profile", response_class=HTMLResponse)
def profile(ctx: CtxDep) -> HTMLResponse:
    user = ctx.require_user()
    person = ensure_self(ctx.db, ctx.actor, user, now=ctx.now)
    return render(ctx, "people/profile.html", person=person, error=None, saved=False)


@router.post("/me/profile", response_class=HTMLResponse)
def save_profile(
    ctx: CtxDep,
    full_name: Text,
    csrf_token: CsrfForm = "",
    id_type: Annotated[str, Form(max_length=10)] = "none",
    id_number: Annotated[str, Form(max_length=30)] = "",
    birth_date: Annotated[str, Form(max_length=10)] = "",
    birth_year: Annotated[str, Form(max_length=4)] = "",
    sex: Annotated[str, Form(max_length=6)] = "",
    nationality: Annotated[str, Form(max_length=3)] = "VN",
    street_address: Text = "",
) -> HTMLResponse:
    user = ctx.require_user()
    check_csrf(ctx, csrf_token)
    person = ensure_self(ctx.db, ctx.actor, user, now=ctx.now)
    try:
        born = date.fromisoformat(birth_date) if birth_date else None
        draft = PersonDraft(
            full_name=full_name, id_type=id_type, id_number=id_number or None, birth_date=born,
            birth_year=_int(birth_year), sex=sex or None, phone=user.phone,
            nationality=nationality or "VN", street_address=street_address,
        )  # fmt: skip
        with ctx.db.begin_nested():
            update_person(ctx.db, ctx.actor, person, draft, now=ctx.now)
    except ValueError:
        err = AppError("person.birth_date_invalid", "Ngày sinh không hợp lệ.")
        return render(ctx, "people/profile.html", status=400, person=person, error=err)
    except AppError as err:
        ctx.db.refresh(person)
        return render(ctx, "people/profile.html", status=err.status, person=person, error=err)
    return render(ctx, "people/profile.html", person=person, error=None, saved=True)


@router.get("/people", response_class=HTMLResponse)
def search(ctx: CtxDep, q: Annotated[str, Query(max_length=100)] = "") -> HTMLResponse:
    principal = ctx.require_principal()
    require_somewhere(principal, "person.read")
    found = search_people(ctx.db, principal, q) if len(q.strip()) >= 2 else []
    return render(
        ctx, "people/search.html", q=q, found=found,
        may_merge=any("person.merge" in ROLE_ACTIONS[g.role] for g in principal.grants),
    )  # fmt: skip


@router.get("/people/{person_id}", response_class=HTMLResponse)
def person_page(person_id: int, ctx: CtxDep) -> HTMLResponse:
    principal = ctx.require_principal()
    require_somewhere(principal, "person.history.read")
    person = get_person(ctx.db, person_id)
    return render(ctx, "people/lookup.html", person=person, visits=None, error=None, purpose="")


@router.post("/people/{person_id}/history", response_class=HTMLResponse)
def history(
    person_id: int,
    ctx: CtxDep,
    csrf_token: CsrfForm = "",
    purpose: Annotated[str, Form(max_length=1000)] = "",
    case_ref: Annotated[str, Form(max_length=60)] = "",
) -> HTMLResponse:
    ctx.require_principal()
    check_csrf(ctx, csrf_token)
    person = get_person(ctx.db, person_id)
    try:
        visits = look_up_history(
            ctx.db, ctx.actor, person, purpose=purpose, case_ref=case_ref or None, now=ctx.now
        )
    except AppError as err:
        return render(
            ctx, "people/lookup.html", status=err.status, person=person, visits=None,
            error=err, purpose=purpose,
        )  # fmt: skip
    return render(
        ctx, "people/lookup.html", person=person, visits=visits, error=None, purpose=purpose,
        days=HISTORY_DAYS,
    )  # fmt: skip


@router.post("/people/merge", response_class=HTMLResponse)
def merge(
    ctx: CtxDep,
    keep_id: Annotated[int, Form()],
    duplicate_id: Annotated[int, Form()],
    csrf_token: CsrfForm = "",
) -> Response:
    ctx.require_principal()
    check_csrf(ctx, csrf_token)
    kept = merge_people(
        ctx.db,
        ctx.actor,
        get_person(ctx.db, keep_id),
        get_person(ctx.db, duplicate_id),
        now=ctx.now,
    )
    return RedirectResponse(f"/people?q={kept.id_number or kept.full_name}", status_code=303)
