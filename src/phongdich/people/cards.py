"""A printable personal QR card (PDF) for people without a phone: name, birth year, the QR.

Four identical cards on an A4 page (cut along the lines; the size of a bank card, 85.6 × 54 mm
plus margin). Fonts and QR drawing come from `core.pdf`, as for the venue posters.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from phongdich.core.pdf import draw_qr, unicode_fonts

CARD_W, CARD_H = 95 * mm, 60 * mm
QR_SIDE = 44 * mm


@dataclass(frozen=True)
class CardData:
    full_name: str
    birth_year: int | None
    url: str
    issued_on: str  # dd/mm/yyyy


def _card(canvas: Canvas, card: CardData, x: float, y: float, fonts: dict[str, str]) -> None:
    canvas.setDash(3, 3)
    canvas.rect(x, y, CARD_W, CARD_H)
    canvas.setDash()
    draw_qr(canvas, card.url, x + 3 * mm, y + (CARD_H - QR_SIDE) / 2, QR_SIDE, quiet_zone=4)
    tx = x + QR_SIDE + 6 * mm
    canvas.setFont(fonts["bold"], 8)
    canvas.drawString(tx, y + CARD_H - 9 * mm, "MÃ QR CÁ NHÂN")
    canvas.setFont(fonts["bold"], 11)
    words, line, ty = card.full_name.split(), "", y + CARD_H - 17 * mm
    for word in words:  # wrap the name in the narrow column
        trial = f"{line} {word}".strip()
        if pdfmetrics.stringWidth(trial, fonts["bold"], 11) > CARD_W - QR_SIDE - 9 * mm and line:
            canvas.drawString(tx, ty, line)
            line, ty = word, ty - 5 * mm
        else:
            line = trial
    canvas.drawString(tx, ty, line)
    canvas.setFont(fonts["regular"], 8)
    if card.birth_year:
        canvas.drawString(tx, ty - 6 * mm, f"Năm sinh: {card.birth_year}")
    canvas.drawString(tx, y + 12 * mm, f"Cấp ngày {card.issued_on}")
    canvas.setFont(fonts["regular"], 6.5)
    canvas.drawString(tx, y + 7 * mm, "Đưa mã này cho người kiểm soát")
    canvas.drawString(tx, y + 4 * mm, "quét khi vào, ra. Mất thẻ: cấp mã mới.")


def card_pdf(card: CardData) -> bytes:
    """One A4 page with four copies of the card."""
    fonts = unicode_fonts()
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, pageCompression=1)
    canvas.setTitle(f"Mã QR cá nhân — {card.full_name}")
    width, height = A4
    left = (width - 2 * CARD_W) / 2
    for i in range(4):
        col, row = i % 2, i // 2
        _card(canvas, card, left + col * CARD_W, height - 20 * mm - (row + 1) * CARD_H, fonts)
    canvas.showPage()
    canvas.save()
    return out.getvalue()
