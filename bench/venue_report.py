"""Benchmark: the active-venue report over 20,000 venues and 10,000,000 check-ins (≤ 100 ms).

The report reads the per-venue daily counters; the raw queries read a `checkins(venue_id,
person_key, at)` table of the same check-ins. Both run here, in the same database, and the
report time is printed beside the raw times with the ratios.

    python bench/venue_report.py                       # SQLite, 10 M check-ins
    python bench/venue_report.py --checkins 500000     # a quick try
    python bench/venue_report.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/
    PHONGDICH_BENCH_DATABASE_URL=postgresql+psycopg://... python bench/venue_report.py

The counters are filled from the raw table by one SQL aggregation with exactly what
`venues.activity.record_scan` maintains per scan (scans and distinct people per venue per local
day, and the last scan time); the run checks that the report's totals equal the raw counts.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import bench_database, insert_venues, server_url

from phongdich.auth.service import CLI_PRINCIPAL
from phongdich.core.clock import VN_TZ, local_day
from phongdich.reports.venues import venue_activity_report

BUDGET_S = 0.100
DAY = 86_400


def _timed(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    fn()  # warm the caches, as a server that has been up a while would have them
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def generate_checkins(engine: Engine, n: int, venue_ids: list[int], now: datetime) -> None:
    """n check-ins over 30 days: a third of the scanned venues in the last 7 days too, the rest
    only 8–30 days ago; each venue sees its own few hundred regulars."""
    first, count = min(venue_ids), len(venue_ids)
    scanned = max(1, count * 3 // 10)  # 30 % of the venues had any check-in in 30 days
    recent = max(1, scanned // 3)
    end = int(now.timestamp())
    pg = engine.dialect.name == "postgresql"
    venue = f"({first} + ((x * 7919) % {scanned}))"
    offset = (
        f"(CASE WHEN ((x * 7919) % {scanned}) < {recent} THEN (x * 104729) % {30 * DAY} "
        f"ELSE {8 * DAY} + (x * 104729) % {22 * DAY} END)"
    )
    person = f"'p' || (((x * 7919) % {scanned}) * 7 + (x * 31337) % 400)"
    with engine.begin() as conn:
        if pg:
            conn.execute(
                text(
                    "CREATE UNLOGGED TABLE checkins (venue_id integer NOT NULL, "
                    "person_key varchar(64) NOT NULL, at timestamptz NOT NULL)"
                )
            )
            conn.execute(
                text(
                    f"INSERT INTO checkins SELECT {venue}, {person}, "  # noqa: S608  integers and fixed SQL only
                    f"to_timestamp({end} - {offset}) FROM generate_series(1::bigint, :n) AS x"
                ),
                {"n": n},
            )
        else:
            conn.execute(
                text(
                    "CREATE TABLE checkins (venue_id INTEGER NOT NULL, "
                    "person_key VARCHAR(64) NOT NULL, at DATETIME NOT NULL)"
                )
            )
            conn.execute(
                text(
                    f"WITH RECURSIVE cnt(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM cnt "  # noqa: S608  integers and fixed SQL only
                    f"WHERE x < :n) INSERT INTO checkins SELECT {venue}, {person}, "
                    f"strftime('%Y-%m-%d %H:%M:%f000', {end} - {offset}, 'unixepoch') FROM cnt"
                ),
                {"n": n},
            )
        conn.execute(text("CREATE INDEX ix_checkins_venue_at ON checkins (venue_id, at)"))
        if pg:
            conn.execute(text("ANALYZE checkins"))


def _local_day_sql(pg: bool) -> str:
    return "(at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date" if pg else "date(at, '+7 hours')"


def fill_counters(engine: Engine) -> None:
    """What record_scan would have kept, for every check-in, as one aggregation."""
    day = _local_day_sql(engine.dialect.name == "postgresql")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO venue_daily_activity (venue_id, day, scans, visitors, poster_checks) "  # noqa: S608  integers and fixed SQL only
                f"SELECT venue_id, {day}, count(*), count(DISTINCT person_key), 0 "
                f"FROM checkins GROUP BY venue_id, {day}"
            )
        )
        conn.execute(
            text(
                "UPDATE venues SET status = 'active', last_scan_at = "
                "(SELECT max(at) FROM checkins c WHERE c.venue_id = venues.id) "
                "WHERE EXISTS (SELECT 1 FROM checkins c WHERE c.venue_id = venues.id)"
            )
        )
        conn.execute(text("ANALYZE"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkins", type=int, default=10_000_000)
    parser.add_argument("--venues", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--postgres", help="PostgreSQL server URL (else SQLite)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)
    now = datetime.now(UTC).replace(microsecond=0)
    today = local_day(now)
    week_from = today - timedelta(days=6)
    month_from = today - timedelta(days=29)

    with bench_database(server_url(args.postgres), keep=args.keep) as engine:
        pg = engine.dialect.name == "postgresql"
        started = time.perf_counter()
        with Session(engine) as session:
            venue_ids = insert_venues(session, args.venues, now)
            session.commit()
        print(f"{args.venues:,} venues in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        generate_checkins(engine, args.checkins, venue_ids, now)
        print(f"{args.checkins:,} raw check-ins (+ index) in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        fill_counters(engine)
        print(f"counters filled in {time.perf_counter() - started:.1f} s")

        week_start = datetime.combine(week_from, datetime.min.time(), VN_TZ).astimezone(UTC)
        month_start = datetime.combine(month_from, datetime.min.time(), VN_TZ).astimezone(UTC)
        since = week_start if pg else week_start.strftime("%Y-%m-%d %H:%M:%S")
        since30 = month_start if pg else month_start.strftime("%Y-%m-%d %H:%M:%S")
        day = _local_day_sql(pg)

        with engine.connect() as conn:

            def raw_active() -> int:
                return int(
                    conn.execute(
                        text(
                            "SELECT count(*) FROM venues v WHERE EXISTS (SELECT 1 FROM checkins c "
                            "WHERE c.venue_id = v.id AND c.at >= :since)"
                        ),
                        {"since": since},
                    ).scalar_one()
                )

            def raw_daily() -> int:
                rows = conn.execute(
                    text(
                        f"SELECT venue_id, {day} AS d, count(*), count(DISTINCT person_key) "  # noqa: S608  integers and fixed SQL only
                        f"FROM checkins WHERE at >= :since GROUP BY venue_id, {day}"
                    ),
                    {"since": since30},
                ).all()
                return len(rows)

            def raw_daily_scans() -> int:
                rows = conn.execute(
                    text(
                        f"SELECT venue_id, {day} AS d, count(*) FROM checkins "  # noqa: S608  integers and fixed SQL only
                        f"WHERE at >= :since GROUP BY venue_id, {day}"
                    ),
                    {"since": since30},
                ).all()
                return len(rows)

            def raw_week_scans() -> int:
                return int(
                    conn.execute(
                        text("SELECT count(*) FROM checkins WHERE at >= :since"), {"since": since}
                    ).scalar_one()
                )

            t_active, n_active = _timed(raw_active, args.runs)
            t_daily_scans, _ = _timed(raw_daily_scans, 1)
            t_daily, n_daily = _timed(raw_daily, 1)
            week_scans = raw_week_scans()

        with Session(engine) as session:

            def report(date_from: Any) -> Any:
                return venue_activity_report(
                    session, CLI_PRINCIPAL, date_from=date_from, date_to=today, now=now
                )

            t_week, week = _timed(lambda: report(week_from), args.runs)
            t_month, _month = _timed(lambda: report(month_from), args.runs)

        assert week.total.active == n_active, (week.total.active, n_active)
        assert week.total.scans == week_scans, (week.total.scans, week_scans)
        assert week.total.registered == args.venues

    backend = "PostgreSQL" if pg else "SQLite"
    print()
    print(f"{backend}: {args.venues:,} venues, {args.checkins:,} check-ins, median of runs")
    print(
        f"  raw SQL: count of active venues (7 days)     {t_active * 1000:9.1f} ms  -> {n_active:,}"
    )
    print(f"  raw SQL: daily scan counts for 30 days       {t_daily_scans * 1000:9.1f} ms")
    print(
        f"  raw SQL: daily scans + people for 30 days    {t_daily * 1000:9.1f} ms"
        f"  -> {n_daily:,} rows"
    )
    print(
        f"  report (7 days, by district/commune/type)    {t_week * 1000:9.1f} ms  "
        f"-> {week.total.active:,} active of {week.total.registered:,}, {week.total.scans:,} scans"
    )
    print(f"  report (30 days)                             {t_month * 1000:9.1f} ms")
    print(f"  report / budget of 100 ms                    {t_week / BUDGET_S:9.2f}")
    print(f"  report / raw active count                    {t_week / t_active:9.2f}")
    print(f"  raw daily scan counts / report               {t_daily_scans / t_week:9.1f}")
    print(f"  raw daily scans + people / report            {t_daily / t_week:9.1f}")
    ok = t_week <= BUDGET_S  # the figure: active venues in the last 7 days
    print("  7-day report within budget" if ok else "  7-day report OVER BUDGET")
    if t_month > BUDGET_S:
        print(f"  (the 30-day report is {t_month / BUDGET_S:.2f} × the budget)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
