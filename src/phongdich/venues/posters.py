"""Printable A4 posters in Vietnamese: the venue's name and address, a signed QR 15.5 × 15.5 cm,
the short code for typing by hand, three steps to check in, and the issue date.

Fonts and the QR drawing come from `core.pdf` (DejaVu Sans; one pixel per module, sharp at any
size). Many posters (all venues of a commune) go into one PDF.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import cm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import select
from sqlalchemy.orm import Session

from phongdich.areas.queries import ancestors, display_name
from phongdich.core import signing
from phongdich.core.clock import format_date
from phongdich.core.errors import AppError
from phongdich.core.pdf import draw_qr, unicode_fonts
from phongdich.models import Area, Venue, VenueLocation
from phongdich.venues.qr import PURPOSE, code_url, issue_qr
from phongdich.venues.queries import OPERATING

QR_SIDE = 15.5 * cm  # the symbol itself, quiet zone not included: at least 15 × 15 cm
MARGIN = 1.5 * cm
MAX_BATCH = 5000


@dataclass(frozen=True)
class PosterData:
    """Everything printed on one poster (already formatted)."""

    venue_name: str
    location_name: str | None
    address: str
    url: str
    short_code_display: str
    code_url: str
    issued_on: str  # dd/mm/yyyy, Vietnam time


def _centered_lines(
    canvas: Canvas, text: str, font: str, size: float, y: float, max_lines: int
) -> float:
    """Draw `text` wrapped to the page width and centred; return the y below it."""
    width = A4[0] - 2 * MARGIN
    while True:
        lines = simpleSplit(text, font, size, width)
        if len(lines) <= max_lines or size <= 10:
            break
        size -= 1
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], lines[max_lines - 1].rstrip() + "…"]
    canvas.setFont(font, size)
    for line in lines:
        y -= size * 1.2
        canvas.drawCentredString(A4[0] / 2, y, line)
    return y


def _draw_poster(canvas: Canvas, p: PosterData, fonts: dict[str, str]) -> None:
    page_w, page_h = A4
    y = page_h - MARGIN
    canvas.setFillGray(0)
    y = _centered_lines(canvas, "QUÉT MÃ QR KHI RA, VÀO ĐỊA ĐIỂM", fonts["bold"], 20, y, 1)
    title = f"{p.venue_name} · {p.location_name}" if p.location_name else p.venue_name
    y = _centered_lines(canvas, title, fonts["bold"], 24, y - 8, 2)
    y = _centered_lines(canvas, p.address, fonts["regular"], 12, y - 2, 2)
    qr_top = y - 18
    draw_qr(canvas, p.url, (page_w - QR_SIDE) / 2, qr_top - QR_SIDE, QR_SIDE)
    y = qr_top - QR_SIDE - 6
    y = _centered_lines(canvas, f"Mã địa điểm: {p.short_code_display}", fonts["bold"], 26, y - 4, 1)
    steps = (
        "1. Mở camera hoặc ứng dụng quét mã QR trên điện thoại.",
        "2. Hướng camera vào mã QR trên và mở đường dẫn hiện ra.",
        f"3. Xác nhận khai báo. Không quét được? Vào {p.code_url} và gõ mã ở trên.",
    )
    canvas.setFont(fonts["bold"], 13)
    y -= 24
    canvas.drawString(MARGIN, y, "Cách khai báo:")
    for step in steps:
        for line in simpleSplit(step, fonts["regular"], 12, page_w - 2 * MARGIN):
            y -= 16
            canvas.setFont(fonts["regular"], 12)
            canvas.drawString(MARGIN, y, line)
    canvas.setFont(fonts["regular"], 10)
    canvas.drawString(MARGIN, MARGIN, f"Ngày cấp: {p.issued_on}")
    canvas.drawRightString(
        page_w - MARGIN, MARGIN, "Mã QR có chữ ký số của hệ thống, không chứa thông tin bí mật."
    )


def render_posters(posters: Sequence[PosterData], *, font_dir: Path | None = None) -> bytes:
    """One A4 page per poster, in one PDF."""
    fonts = unicode_fonts(font_dir)
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, pageCompression=1)
    canvas.setTitle("Áp phích mã QR địa điểm")
    canvas.setCreator("phongdich")
    for poster in posters:
        _draw_poster(canvas, poster, fonts)
        canvas.showPage()
    canvas.save()
    return out.getvalue()


def _check_printable(venue: Venue) -> None:
    if venue.status not in OPERATING:
        raise AppError(
            "poster.venue_not_operating",
            "Chỉ in được áp phích cho địa điểm đã được duyệt và đang hoạt động.",
            {"venue_id": venue.id, "status": venue.status},
        )


Item = tuple[Venue, VenueLocation | None]


def poster_data(
    session: Session, items: Sequence[Item], *, base_url: str, now: datetime
) -> list[PosterData]:
    """Sign a QR for each venue or sub-location (venue, location) and format its poster.

    Venues that cannot take check-ins (pending, rejected, closed) are refused. Flush only.
    """
    for venue, _location in items:
        _check_printable(venue)
    area_ids = {v.area_id for v, _ in items}
    areas = {a.id: a for a in session.scalars(select(Area).where(Area.id.in_(area_ids)))}
    parents = ancestors(session, list(areas.values()))
    signer = signing.signer_for(session, PURPOSE, now=now)
    issued_on = format_date(now)
    typed = code_url(base_url)
    result = []
    for venue, location in items:
        issued = issue_qr(
            session, venue, base_url=base_url, now=now, location=location, signer=signer
        )
        result.append(
            PosterData(
                venue_name=venue.name,
                location_name=location.name if location else None,
                address=f"{venue.street_address}, {display_name(areas[venue.area_id], parents)}",
                url=issued.url,
                short_code_display=issued.short_code_display,
                code_url=typed,
                issued_on=issued_on,
            )
        )
    session.flush()
    return result


def posters_pdf(
    session: Session,
    items: Sequence[Venue | Item],
    *,
    base_url: str,
    now: datetime,
    font_dir: Path | None = None,
) -> bytes:
    """The PDF of posters: venues, or (venue, sub-location) pairs; one page each."""
    pairs: list[Item] = [i if isinstance(i, tuple) else (i, None) for i in items]
    if len(pairs) > MAX_BATCH:
        raise AppError(
            "poster.batch_too_large",
            "Mỗi lần in tối đa {max} áp phích; hãy chọn từng xã hoặc từng huyện.",
            {"count": len(pairs), "max": MAX_BATCH},
        )
    if not pairs:
        raise AppError("poster.empty", "Không có địa điểm nào để in áp phích.")
    data = poster_data(session, pairs, base_url=base_url, now=now)
    return render_posters(data, font_dir=font_dir)
