"""What every printed PDF shares: a font with every Vietnamese letter, and sharp QR symbols.

DejaVu Sans covers every Vietnamese letter with its tone marks; it comes from Debian's
`fonts-dejavu-core` (/usr/share/fonts/truetype/dejavu), which `make test` and CI install.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PIL import Image
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from phongdich.core import qr
from phongdich.core.errors import AppError

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)  # Debian: fonts-dejavu-core
FONTS = {"regular": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf", "mono": "DejaVuSansMono.ttf"}


@cache
def unicode_fonts(font_dir: Path | None = None) -> dict[str, str]:
    """Register the fonts once per process; returns their names by kind (regular/bold/mono)."""
    dirs = (font_dir,) if font_dir else FONT_DIRS
    for d in dirs:
        if all((d / f).is_file() for f in FONTS.values()):
            names = {}
            for kind, file in FONTS.items():
                name = f"PD-{file.removesuffix('.ttf')}"
                pdfmetrics.registerFont(TTFont(name, str(d / file)))
                names[kind] = name
            return names
    raise AppError(
        "pdf.font_missing",
        "Máy chủ thiếu phông chữ tiếng Việt để tạo tệp PDF (cần gói fonts-dejavu-core).",
        {"looked_in": [str(d) for d in dirs]},
        status=500,
    )


def draw_qr(
    canvas: Canvas, data: str, x: float, y: float, side: float, *, quiet_zone: int = 0
) -> None:
    """Draw a QR symbol as one pixel per module, scaled up by the PDF without smoothing: sharp
    at any print size, and ten times faster to write than thousands of vector squares.
    `quiet_zone` adds white modules around it where the page gives no white margin."""
    rows = qr.matrix(data)
    n = len(rows) + 2 * quiet_zone
    image = Image.new("1", (n, n), 1)
    pixels = [1] * (n * n)
    for r, row in enumerate(rows):
        base = (r + quiet_zone) * n + quiet_zone
        for c, dark in enumerate(row):
            if dark:
                pixels[base + c] = 0
    image.putdata(pixels)
    canvas.drawImage(ImageReader(image), x, y, side, side)
