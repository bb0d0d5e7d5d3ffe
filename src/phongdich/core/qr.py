"""QR symbols for printed codes and screens: PNG and SVG bytes, and the module matrix.

Error correction M (15 %) with segno's `boost_error`, which raises the level for free when the
data leaves room: a poster on a market wall gets dirty and sun-bleached.
"""

from __future__ import annotations

import io

import segno


def make(data: str) -> segno.QRCode:
    """The QR symbol for `data` (byte mode, so a URL stays exactly as given)."""
    return segno.make_qr(data, error="m", boost_error=True)


def png_bytes(data: str, *, scale: int = 8, border: int = 4) -> bytes:
    """A black-on-white PNG of the symbol, `scale` pixels per module, quiet zone included."""
    out = io.BytesIO()
    make(data).save(out, kind="png", scale=scale, border=border)
    return out.getvalue()


def svg_bytes(data: str, *, scale: int = 4, border: int = 4) -> bytes:
    """An SVG of the symbol (no XML declaration, so it can be inlined in a page). It states a
    viewBox instead of a size, so that the page's style fits it to a phone's width: a long
    code's symbol at a fixed size was wider than a 360-px screen's card."""
    out = io.BytesIO()
    make(data).save(
        out, kind="svg", scale=scale, border=border, xmldecl=False, svgns=True, omitsize=True
    )
    return out.getvalue()


def matrix(data: str) -> list[list[bool]]:
    """Rows of dark (True) and light modules, without the quiet zone: for drawing in a PDF."""
    return [[bool(cell) for cell in row] for row in make(data).matrix]
