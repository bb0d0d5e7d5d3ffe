"""Shared by the benchmarks: a database of their own (SQLite file or a new PostgreSQL database,
dropped at the end), migrated, with Cao Bằng's areas, and many venues inserted in bulk."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, create_engine, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from phongdich.areas.loader import SCHEME_2021, area_rows, load_areas
from phongdich.core.shortcode import new_short_code
from phongdich.core.text import fold
from phongdich.db import make_engine, upgrade
from phongdich.models import Area, Venue, VenueType

CAO_BANG = 4


def server_url(flag: str | None) -> str | None:
    """PostgreSQL server URL from --postgres or PHONGDICH_BENCH_DATABASE_URL; None for SQLite."""
    return flag or os.environ.get("PHONGDICH_BENCH_DATABASE_URL") or None


@contextmanager
def bench_database(server: str | None, keep: bool = False) -> Iterator[Engine]:
    """A fresh migrated database with Cao Bằng's 2021 areas; dropped afterwards."""
    name = f"phongdich_bench_{os.getpid()}_{secrets.token_hex(3)}"
    admin = None
    tmpdir: Path | None = None
    if server:
        admin_url = make_url(server)
        if not admin_url.database:
            admin_url = admin_url.set(database="postgres")
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = admin_url.set(database=name).render_as_string(hide_password=False)
    else:
        tmpdir = Path(tempfile.mkdtemp(prefix="phongdich-bench-"))
        url = f"sqlite:///{tmpdir / 'bench.sqlite3'}"
    engine = make_engine(url)
    try:
        started = time.perf_counter()
        upgrade(engine)
        with Session(engine) as session:
            load_areas(session, area_rows((SCHEME_2021,), {CAO_BANG}))
            session.commit()
        print(
            f"database {engine.url.get_backend_name()} ready "
            f"in {time.perf_counter() - started:.1f} s"
        )
        yield engine
    finally:
        engine.dispose()
        if admin is not None:
            if not keep:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
        if tmpdir is not None:
            if keep:
                print(f"kept {tmpdir / 'bench.sqlite3'}")
            else:
                shutil.rmtree(tmpdir, ignore_errors=True)


def insert_venues(session: Session, n: int, now: datetime, status: str = "approved") -> list[int]:
    """n approved venues spread over Cao Bằng's communes, inserted in bulk; returns their ids."""
    communes = list(
        session.scalars(select(Area).where(Area.scheme == SCHEME_2021, Area.level == "commune"))
    )
    types = list(session.scalars(select(VenueType)))
    codes: set[str] = set()
    while len(codes) < n:
        codes.add(new_short_code())
    ids: list[int] = []
    code_list = sorted(codes)
    for start in range(0, n, 5000):
        rows = []
        for i in range(start, min(start + 5000, n)):
            name = f"Địa điểm thử {i + 1}"
            rows.append(
                {
                    "name": name,
                    "name_folded": fold(name),
                    "type_id": types[i % len(types)].id,
                    "street_address": f"Số {i % 300 + 1} đường Kim Đồng",
                    "area_id": communes[i % len(communes)].id,
                    "contact_phone": f"+8491{i:07d}",
                    "status": status,
                    "registered_via": "import",
                    "short_code": code_list[i],
                    "created_at": now - timedelta(days=90),
                    "approved_at": now - timedelta(days=90),
                }
            )
        ids += session.scalars(
            insert(Venue).returning(Venue.id, sort_by_parameter_order=True), rows
        ).all()
    return ids
