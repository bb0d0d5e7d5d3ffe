"""The venue QR: a signed URL `/v/<token>` for a venue or one of its sub-locations, the short
code printed beside it, and the way back from a scanned or typed code to the place.

The token carries the venue id, the sub-location id (if any), the short code and the issue
time, signed with the `venue_qr` key (see `core.signing`). The short code is the same place's
code for typing by hand; it is not secret either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from phongdich.core import signing
from phongdich.core.errors import AppError, NotFound
from phongdich.core.shortcode import format_short_code, parse_short_code
from phongdich.models import Venue, VenueLocation
from phongdich.venues.queries import OPERATING

PURPOSE = "venue_qr"


def qr_url(base_url: str, token: str) -> str:
    """The address a phone's camera opens: `<base>/v/<token>`."""
    return f"{base_url.rstrip('/')}/v/{token}"


def code_url(base_url: str) -> str:
    """Where to type a short code by hand."""
    return f"{base_url.rstrip('/')}/v/code"


@dataclass(frozen=True)
class IssuedQr:
    token: str
    url: str
    short_code: str  # as stored: K7QW3MAX
    issued_at: datetime

    @property
    def short_code_display(self) -> str:
        """K7QW-3MAX, as printed beside the QR."""
        return format_short_code(self.short_code)


def claims_for(venue: Venue, location: VenueLocation | None = None) -> dict[str, Any]:
    claims: dict[str, Any] = {"v": venue.id, "c": venue.short_code}
    if location is not None:
        claims.update(l=location.id, c=location.short_code)
    return claims


def issue_qr(
    session: Session,
    venue: Venue,
    *,
    base_url: str,
    now: datetime,
    location: VenueLocation | None = None,
    signer: signing.Signer | None = None,
) -> IssuedQr:
    """Sign a fresh QR for the venue (or its sub-location) and note when it was issued."""
    signer = signer or signing.signer_for(session, PURPOSE, now=now)
    token = signer.sign(claims_for(venue, location), now=now)
    if location is None:
        venue.qr_issued_at = now
    code = location.short_code if location is not None else venue.short_code
    return IssuedQr(token=token, url=qr_url(base_url, token), short_code=code, issued_at=now)


@dataclass(frozen=True)
class ScannedPlace:
    """Where a scanned or typed code leads."""

    venue: Venue
    location: VenueLocation | None
    issued_at: datetime | None  # None for a typed short code


def _check_operating(venue: Venue) -> None:
    if venue.status not in OPERATING:
        raise AppError(
            "qr.venue_not_operating",
            "Địa điểm này chưa được duyệt hoặc đã ngừng hoạt động nên không nhận khai báo. "
            "Hãy hỏi chủ địa điểm hoặc cán bộ xã.",
            {"status": venue.status},
        )


def resolve_token(session: Session, token: str) -> ScannedPlace:
    """The place a scanned QR names, after checking its signature (InvalidToken otherwise)."""
    claims = signing.verify(session, PURPOSE, token)
    venue_id, code, location_id = claims.get("v"), claims.get("c"), claims.get("l")
    if not isinstance(venue_id, int) or not isinstance(code, str):
        raise signing.InvalidToken("qr.malformed", signing.REASONS["qr.malformed"])
    venue = session.get(Venue, venue_id)
    location = session.get(VenueLocation, location_id) if isinstance(location_id, int) else None
    expected = location.short_code if location is not None else (venue and venue.short_code)
    if (
        venue is None
        or (location_id is not None and (location is None or location.venue_id != venue.id))
        or expected != code
    ):
        raise NotFound(
            "qr.venue_gone",
            "Mã QR hợp lệ nhưng địa điểm (hoặc khu vực) này không còn trong hệ thống.",
            {"venue_id": venue_id},
        )
    _check_operating(venue)
    return ScannedPlace(venue, location, datetime.fromtimestamp(claims["iat"], UTC))


def resolve_short_code(session: Session, raw: str) -> ScannedPlace:
    """The place a hand-typed short code names (a venue or one of its sub-locations)."""
    code = parse_short_code(raw)
    venue = session.scalar(select(Venue).where(Venue.short_code == code))
    location = None
    if venue is None:
        location = session.scalar(select(VenueLocation).where(VenueLocation.short_code == code))
        venue = session.get(Venue, location.venue_id) if location is not None else None
    if venue is None:
        raise NotFound(
            "qr.code_unknown",
            "Không có địa điểm nào mang mã này. Hãy kiểm tra lại mã in dưới mã QR.",
            {"code": raw},
        )
    _check_operating(venue)
    return ScannedPlace(venue, location, None)
