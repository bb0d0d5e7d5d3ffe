"""Benchmark: 1,000 venue posters into one PDF in ≤ 30 s (signing, layout, QR, PDF).

    python bench/posters.py [--venues 1000] [--postgres URL]

Times `venues.posters.posters_pdf` end to end, as the batch route runs it, then reads back
the first and last pages' QR codes with zxing-cpp (when installed) as a sanity check.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import bench_database, insert_venues, server_url

from phongdich.models import Venue
from phongdich.venues.posters import posters_pdf

BUDGET_S = 30.0
BASE = "https://phongdich.caobang.example"


def _check_pages(pdf: bytes) -> str:
    try:
        import pypdfium2 as pdfium
        import zxingcpp
    except ImportError:
        return "not checked (pypdfium2/zxing-cpp not installed)"
    doc = pdfium.PdfDocument(pdf)
    try:
        texts = []
        for index in (0, len(doc) - 1):
            page = doc[index]
            found = zxingcpp.read_barcodes(
                page.render(scale=1.5).to_pil(), formats=zxingcpp.BarcodeFormat.QRCode
            )
            texts.append(found[0].text if found else "")
            page.close()
        pages = len(doc)
    finally:
        doc.close()
    ok = all(t.startswith(f"{BASE}/v/") for t in texts)
    return f"{pages} pages, first and last QR {'decode' if ok else 'DO NOT decode'}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venues", type=int, default=1000)
    parser.add_argument("--postgres", help="PostgreSQL server URL (else SQLite)")
    args = parser.parse_args(argv)
    now = datetime.now(UTC)
    with bench_database(server_url(args.postgres)) as engine, Session(engine) as session:
        insert_venues(session, args.venues, now)
        session.commit()
        venues = list(session.scalars(select(Venue).order_by(Venue.id)))
        started = time.perf_counter()
        pdf = posters_pdf(session, venues, base_url=BASE, now=now)
        session.commit()
        elapsed = time.perf_counter() - started
    print(f"{args.venues:,} posters in one PDF: {elapsed:.1f} s ({len(pdf) / 1e6:.1f} MB)")
    print(f"  time / budget of 30 s: {elapsed / BUDGET_S:.2f}")
    print(f"  {_check_pages(pdf)}")
    return 0 if elapsed <= BUDGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
