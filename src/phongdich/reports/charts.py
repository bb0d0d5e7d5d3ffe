"""Server-side SVG charts: no script, no external file, allowed by the strict CSP as they are.

Colours are SVG presentation attributes, not `style`, which the CSP (style-src 'self') forbids.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from phongdich.reports.schemas import VenueReportRow

ACTIVE_COLOUR = "#0b6e4f"
DORMANT_COLOUR = "#d9a441"


def active_dormant_bars(
    rows: Sequence[VenueReportRow],
    *,
    title: str,
    active_label: str,
    dormant_label: str,
    width: int = 900,
) -> str:
    """Horizontal stacked bars, one per row: venues with scans, then without."""
    label_w, bar_h, gap, top = 230, 22, 8, 56
    plot_w = width - label_w - 90
    most = max((r.registered for r in rows), default=0) or 1
    height = top + len(rows) * (bar_h + gap) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
        f'<rect x="{label_w}" y="8" width="14" height="14" fill="{ACTIVE_COLOUR}"/>',
        f'<text x="{label_w + 20}" y="20" font-size="14">{escape(active_label)}</text>',
        f'<rect x="{label_w + 260}" y="8" width="14" height="14" fill="{DORMANT_COLOUR}"/>',
        f'<text x="{label_w + 280}" y="20" font-size="14">{escape(dormant_label)}</text>',
    ]
    for i, row in enumerate(rows):
        y = top + i * (bar_h + gap)
        active_w = plot_w * row.active / most
        dormant_w = plot_w * row.dormant / most
        name = row.name.split(",")[0]
        parts += [
            f'<text x="{label_w - 8}" y="{y + 16}" font-size="13" text-anchor="end">'
            f"{escape(name)}</text>",
            f'<rect x="{label_w}" y="{y}" width="{active_w:.1f}" height="{bar_h}" '
            f'fill="{ACTIVE_COLOUR}"><title>{escape(active_label)}: {row.active}</title></rect>',
            f'<rect x="{label_w + active_w:.1f}" y="{y}" width="{dormant_w:.1f}" '
            f'height="{bar_h}" fill="{DORMANT_COLOUR}">'
            f"<title>{escape(dormant_label)}: {row.dormant}</title></rect>",
            f'<text x="{label_w + active_w + dormant_w + 6:.1f}" y="{y + 16}" font-size="13">'
            f"{row.active}/{row.registered}</text>",
        ]
    parts.append("</svg>")
    return "".join(parts)
