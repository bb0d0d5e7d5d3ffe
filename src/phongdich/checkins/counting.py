"""Venue counters for new visits, counted in bulk by a job instead of inside each scan.

Every stored visit adds to its venue's counters (`venues.activity`): the day's scans and distinct
visitors, and the venue's last scan and status. Written by the scan itself these were three
upserts touching about six database pages, a third of what a device scan cost. Instead, the
transaction that stores a visit also queues its id in `uncounted_visits` (one small row), and
`count_visits`, a periodic job that runs every minute, takes the queue in order, counts those
visits exactly as `record_scans` counts scans, and deletes the queue rows it counted, all in one
transaction. A visit is therefore counted once: a crash before the commit leaves the queue as it
was, and two runs at once cannot take the same rows (the delete claims them).

So counters run behind new visits by up to the job's minute plus the worker's poll interval (30 s by
default), about a minute and a half at most. Nothing that needs a visit at once reads them:
occupancy, in/out lists, histories and tracing read the visits themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from phongdich.checkins import rows as visit_rows
from phongdich.db import Raw
from phongdich.venues.activity import Scan, record_scans

QUEUE_SQL = "INSERT INTO uncounted_visits (visit_id) VALUES (?)"
# A run is one transaction: it takes the queue CHUNK visits at a time and stops after
# MAX_PER_RUN (a busy minute at 1,000 scans/s is 60,000); the rest wait for the next run, so
# that one run never holds the writer for long.
CHUNK = 5_000
MAX_PER_RUN = 100_000
_IDS = 500  # ids per statement: under SQLite's variable limit


def queue(raw: Raw, visit_id: int) -> None:
    """Queue one new visit for counting (the scan desk, on the driver's cursor)."""
    raw.run(QUEUE_SQL, visit_id)


def insert_queued(raw: Raw, values: Sequence[Any]) -> int:
    """Insert one new visit (`visit_rows.INSERT_SQL` values) and queue it; returns its id. On
    PostgreSQL one statement does both (a round trip fewer for each device scan); SQLite
    allows no INSERT inside WITH, and its statements cost no round trip."""
    if raw.sqlite:
        visit_id = int(raw.run(visit_rows.INSERT_SQL + " RETURNING id", *values)[0][0])
        queue(raw, visit_id)
        return visit_id
    return int(
        raw.run(
            f"WITH new AS ({visit_rows.INSERT_SQL} RETURNING id) "  # noqa: S608  (constants)
            "INSERT INTO uncounted_visits (visit_id) SELECT id FROM new RETURNING visit_id",
            *values,
        )[0][0]
    )


def queue_visit(session: Session, visit_id: int) -> None:
    """Queue one new visit for counting (the general check-in path)."""
    queue(Raw(session.connection()), visit_id)


def queue_device_scans(raw: Raw, device_token_id: int, client_scan_ids: Sequence[str]) -> None:
    """Queue the visits a device's batch has just stored, found by their unique (device, client
    scan id): COPY on PostgreSQL hands back no ids, and this costs one statement per 500."""
    for i in range(0, len(client_scan_ids), _IDS):
        chunk = client_scan_ids[i : i + _IDS]
        sql, values = visit_rows.of_device(raw, "v.id", device_token_id, chunk)
        raw.run(f"INSERT INTO uncounted_visits (visit_id) {sql}", *values)


def count_visits(session: Session, now: datetime) -> dict[str, Any]:
    """Count queued visits into the venue counters and take them off the queue (flush only;
    the caller commits)."""
    del now  # the visits carry their own times
    raw = Raw(session.connection())
    taken = counted = 0
    while taken < MAX_PER_RUN:
        # Claimed by the delete: on PostgreSQL a concurrent run waits for these rows, then
        # finds them gone and takes none of them.
        ids = [
            row[0]
            for row in raw.run(
                "DELETE FROM uncounted_visits WHERE visit_id IN (SELECT visit_id FROM "
                "uncounted_visits ORDER BY visit_id LIMIT ?) RETURNING visit_id",
                CHUNK,
            )
        ]
        if not ids:
            break
        ids.sort()
        scans: list[Scan] = []
        for i in range(0, len(ids), _IDS):
            among, values = raw.one_of("id", ids[i : i + _IDS])
            scans += [
                Scan(venue_id, str(person_id), raw.moment(at))
                for venue_id, person_id, at in raw.run(
                    f"SELECT venue_id, person_id, checked_in_at FROM visits WHERE {among}",  # noqa: S608
                    *values,
                )
            ]
        record_scans(session, scans)
        taken += len(ids)
        counted += len(scans)
        if len(ids) < CHUNK:
            break
    session.flush()
    # Taken but not counted: visits deleted while queued. Only the retention job deletes
    # visits, and it counts the queue first, so this stays 0 unless rows are removed by hand.
    return {"counted": counted, "gone": taken - counted}
