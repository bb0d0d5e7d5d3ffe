"""Posters: A4 PDFs whose QR decodes back to the signed URL, with Vietnamese text intact."""

from __future__ import annotations

from datetime import UTC, datetime

import pypdfium2 as pdfium
import pytest
import zxingcpp
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from phongdich.auth.roles import Role
from phongdich.config import Settings
from phongdich.core.errors import AppError
from phongdich.venues.posters import posters_pdf
from phongdich.venues.qr import resolve_token
from tests.conftest import T0
from tests.factories import HOA_AN, HOANG_TUNG, TP_CAO_BANG, official, sign_in, venue_user
from tests.venues.orm_factories import make_location, make_venue

BASE = "https://phongdich.caobang.example"
SCALE = 2.0  # pixels per PDF point when rendering


def read_pages(pdf: bytes) -> list[tuple[str, str, float]]:
    """For each page: the decoded QR text, the page text, and the QR's width in cm."""
    doc = pdfium.PdfDocument(pdf)
    pages = []
    try:
        for page in doc:
            width_pt, height_pt = page.get_size()
            assert (round(width_pt), round(height_pt)) == (595, 842)  # A4
            image = page.render(scale=SCALE).to_pil()
            results = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
            assert len(results) == 1, "exactly one QR per poster"
            pos = results[0].position
            width_px = (
                (pos.top_right.x - pos.top_left.x) + (pos.bottom_right.x - pos.bottom_left.x)
            ) / 2
            textpage = page.get_textpage()
            text = textpage.get_text_range()
            textpage.close()
            pages.append((results[0].text, text, width_px / SCALE / 72 * 2.54))
            page.close()
    finally:
        doc.close()
    return pages


def test_batch_pdf_decodes_to_each_venue_and_keeps_vietnamese_text(db: Session) -> None:
    cho = make_venue(db, name="Chợ Xanh Sông Hiến")
    truong = make_venue(db, name="Trường THCS Hoàng Tung", commune=HOANG_TUNG, type_code="school")
    gate = make_location(db, cho, "Cổng phía Đông")
    # 20:30 UTC on 14/11 is already 15/11 in Vietnam: the printed date is the local one.
    now = datetime(2021, 11, 14, 20, 30, tzinfo=UTC)
    pdf = posters_pdf(db, [cho, truong, (cho, gate)], base_url=BASE, now=now)
    pages = read_pages(pdf)
    assert len(pages) == 3

    expected = [(cho, None, "Chợ Xanh Sông Hiến"), (truong, None, "Trường THCS Hoàng Tung")]
    expected.append((cho, gate, "Cổng phía Đông"))
    for (url, text, qr_cm), (venue, location, name) in zip(pages, expected, strict=True):
        assert url.startswith(f"{BASE}/v/")
        place = resolve_token(db, url.removeprefix(f"{BASE}/v/"))
        assert place.venue.id == venue.id
        assert (place.location.id if place.location else None) == (
            location.id if location else None
        )
        assert qr_cm >= 15.0
        flat = " ".join(text.split())
        assert name in flat
        assert "Ngày cấp: 15/11/2021" in flat
        code = location.short_code if location else venue.short_code
        assert f"{code[:4]}-{code[4:]}" in flat
        assert "Cách khai báo" in flat
    assert "Phường Sông Hiến, Thành phố Cao Bằng, Tỉnh Cao Bằng" in " ".join(pages[0][1].split())
    assert "Xã Hoàng Tung, Huyện Hoà An, Tỉnh Cao Bằng" in " ".join(pages[1][1].split())


def test_pending_or_closed_venues_get_no_poster(db: Session) -> None:
    with pytest.raises(AppError) as info:
        posters_pdf(db, [make_venue(db, status="pending")], base_url=BASE, now=T0)
    assert info.value.code == "poster.venue_not_operating"
    with pytest.raises(AppError) as info:
        posters_pdf(db, [], base_url=BASE, now=T0)
    assert info.value.code == "poster.empty"


def test_owner_and_officials_of_the_area_download_posters(
    db: Session, client: TestClient, settings: Settings
) -> None:
    venue = make_venue(db, name="Quán cà phê Phố Núi", type_code="restaurant")
    make_venue(db, name="Nhà hàng Bản Giốc", type_code="restaurant")
    make_venue(db, name="Chợ chưa duyệt", status="pending")
    make_venue(db, name="Chợ Hoà An", commune=HOANG_TUNG)

    owner = venue_user(db, Role.VENUE_OWNER, venue.id)
    sign_in(client, owner)
    r = client.get(f"/venues/{venue.id}/poster.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert [p[0].split("/v/")[0] for p in read_pages(r.content)] == [settings.base_url]
    assert client.get("/posters/venues.pdf?commune=01267").status_code == 403
    client.post("/logout")
    client.cookies.clear()

    sign_in(client, official(db, Role.DISTRICT_OFFICIAL, TP_CAO_BANG))
    r = client.get("/posters/venues.pdf?commune=01267")
    assert r.status_code == 200
    assert len(read_pages(r.content)) == 2  # the pending venue gets no poster
    assert client.get(f"/venues/{venue.id}/poster.pdf").status_code == 200
    client.cookies.clear()

    sign_in(client, official(db, Role.DISTRICT_OFFICIAL, HOA_AN))
    assert client.get(f"/venues/{venue.id}/poster.pdf").status_code == 403
    assert client.get("/posters/venues.pdf?district=040").status_code == 403
    r = client.get("/posters/venues.pdf?district=051")
    assert r.status_code == 200 and len(read_pages(r.content)) == 1
