"""Venue types: the kinds of place named in official guidance, and the ones admins add later.

Each type carries a default stay in minutes: tracing uses it to end a visit that had no
check-out (the earliest of the next check-in, this stay, and local midnight).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from phongdich.audit.service import Actor, record
from phongdich.auth.policy import require_somewhere
from phongdich.core.errors import AppError, Conflict, NotFound
from phongdich.core.text import fold, normalize
from phongdich.models import VenueType


@dataclass(frozen=True)
class BuiltinType:
    code: str
    name: str
    name_en: str
    default_stay_minutes: int


# The list of the guidance (appendix 4), seeded by migration 0002. Stays are rough figures for
# a typical visit: a market trip is short, a shift at a factory or a night at a hotel is long.
BUILTIN_TYPES = (
    BuiltinType("office", "Cơ quan, công sở", "Agency or office", 240),
    BuiltinType(
        "factory",
        "Doanh nghiệp, nhà máy, cơ sở sản xuất",
        "Business, factory or production site",
        480,
    ),
    BuiltinType("hospital", "Bệnh viện, cơ sở khám chữa bệnh", "Hospital or clinic", 120),
    BuiltinType("school", "Trường học", "School", 300),
    BuiltinType("market", "Siêu thị, chợ", "Supermarket or market", 60),
    BuiltinType("lodging", "Khách sạn, cơ sở lưu trú", "Hotel or lodging", 720),
    BuiltinType("restaurant", "Nhà hàng, quán ăn, quán cà phê", "Restaurant or café", 90),
    BuiltinType(
        "station", "Nhà ga, bến xe, cảng, sân bay", "Station, bus station, port or airport", 120
    ),
    BuiltinType("vehicle", "Phương tiện giao thông công cộng", "Public transport vehicle", 60),
    BuiltinType("public_place", "Nơi công cộng đông người", "Crowded public place", 120),
    BuiltinType("checkpoint", "Chốt kiểm soát, chốt kiểm dịch", "Checkpoint or control point", 15),
    BuiltinType("vaccination_site", "Điểm tiêm chủng", "Vaccination site", 60),
)

_CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
# A day is the longest a visit can run: tracing ends open visits at local midnight anyway.
MAX_STAY_MINUTES = 24 * 60


def list_types(session: Session) -> list[VenueType]:
    """Every venue type, built-in ones first, then by Vietnamese name."""
    return list(
        session.scalars(select(VenueType).order_by(VenueType.is_builtin.desc(), VenueType.id))
    )


def get_type(session: Session, code: str) -> VenueType:
    found = session.scalar(select(VenueType).where(VenueType.code == code))
    if found is None:
        raise NotFound("venue_type.unknown", "Không có loại địa điểm mã «{code}».", {"code": code})
    return found


def type_lookup(session: Session) -> dict[str, VenueType]:
    """Types by code and by accent-free name, for matching what people type in an import file."""
    by_key: dict[str, VenueType] = {}
    for t in list_types(session):
        by_key[t.code] = t
        by_key[fold(t.name)] = t
        by_key[fold(t.name_en)] = t
    return by_key


def create_type(
    session: Session,
    actor: Actor,
    *,
    now: datetime,
    code: str,
    name: str,
    name_en: str,
    default_stay_minutes: int,
) -> VenueType:
    """Add a venue type the guidance did not name (administrators; audited)."""
    # The type list is shared by every area of the deployment, so it takes an administrator's
    # grant wherever it is held rather than one covering a particular area.
    require_somewhere(actor.principal, "venue.type.manage")
    code = code.strip().lower()
    if not _CODE.match(code):
        raise AppError(
            "venue_type.code_invalid",
            "Mã loại địa điểm gồm chữ thường không dấu, số và dấu gạch dưới (2–40 ký tự).",
            {"code": code},
        )
    name, name_en = normalize(name), normalize(name_en)
    if not name or not name_en:
        raise AppError("venue_type.name_required", "Vui lòng nhập tên tiếng Việt và tiếng Anh.")
    if not 1 <= default_stay_minutes <= MAX_STAY_MINUTES:
        raise AppError(
            "venue_type.stay_invalid",
            "Thời gian lưu lại mặc định phải từ 1 đến {max} phút.",
            {"default_stay_minutes": default_stay_minutes, "max": MAX_STAY_MINUTES},
        )
    row = VenueType(
        code=code,
        name=name,
        name_en=name_en,
        default_stay_minutes=default_stay_minutes,
        is_builtin=False,
    )
    try:
        with session.begin_nested():
            # Added inside the savepoint, so a refused row leaves the session with it.
            session.add(row)
            session.flush()
    except IntegrityError as exc:
        raise Conflict(
            "venue_type.exists", "Đã có loại địa điểm mã «{code}».", {"code": code}
        ) from exc
    record(
        session,
        actor,
        "venue_type.create",
        now=now,
        object_type="venue_type",
        object_id=row.id,
        details={"code": code, "default_stay_minutes": default_stay_minutes},
    )
    return row
