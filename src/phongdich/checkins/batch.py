"""A scanner device's upload of scans it made while offline: idempotent, row by row.

Each scan carries a client-generated id; (device token, client scan id) is unique in the
database, so sending the same batch twice (a retry after a dropped connection) stores nothing
twice: known ids come back as duplicates. (A scan that only extended a visit leaves no row of
its own; sent again, it extends the visit to the same time, which changes nothing.)

Malformed rows do not sink the batch: every good row is stored and every bad row is reported
with its index, its client id and a stable error code, so the device can drop or fix exactly
those. A row for a venue the device is not allowed to scan for is one such bad row.

The work is a handful of statements per batch, whatever its size: venues, people, known ids and
the people's recent visits are read in chunks, the rules run in memory, new visits go in with
one executemany (COPY on PostgreSQL), and are queued for the venue counters
(`checkins.counting`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from phongdich.audit.service import Actor, record
from phongdich.auth.policy import can
from phongdich.checkins import rows as visit_rows
from phongdich.checkins.counting import queue_device_scans
from phongdich.checkins.service import (
    DEVICE_BATCH,
    LOOKBACK,
    STAYS,
    check_time,
    place_scan,
)
from phongdich.core.errors import AppError
from phongdich.db import Raw
from phongdich.models import Area, Venue, VenueLocation
from phongdich.people.personal_qr import current_many, token_from_text
from phongdich.venues.queries import OPERATING, venue_target

MAX_BATCH = 2000  # ~600 kB of JSON: under the server's 1 MB body limit
_CHUNK = 500


@dataclass(slots=True)
class RawScan:
    """One scan as a device sends it."""

    client_scan_id: str
    code: str  # the personal QR's URL or token, as read
    at: datetime
    venue_id: int
    location_id: int | None = None


@dataclass(frozen=True)
class RowError:
    index: int
    client_scan_id: str | None
    code: str
    message: str


@dataclass
class BatchResult:
    received: int = 0
    stored: int = 0
    extended: int = 0
    duplicates: int = 0
    errors: list[RowError] = field(default_factory=list)


@dataclass(slots=True)
class _Row:
    index: int
    scan: RawScan
    at: datetime
    person_id: int


def _chunks(values: Sequence[Any]) -> list[Sequence[Any]]:
    return [values[i : i + _CHUNK] for i in range(0, len(values), _CHUNK)]


def record_batch(
    session: Session,
    actor: Actor,
    *,
    device_token_id: int,
    scans: Sequence[RawScan],
    now: datetime,
) -> BatchResult:
    """Store the good scans of a device's upload, report the bad ones; flush only."""
    if len(scans) > MAX_BATCH:
        raise AppError(
            "checkin.batch_too_large",
            "Mỗi lần gửi tối đa {max} lượt quét; hãy chia nhỏ.",
            {"max": MAX_BATCH},
        )
    result = BatchResult(received=len(scans))
    rows: list[_Row] = []

    def bad(i: int, scan: RawScan | None, err: AppError) -> None:
        cid = scan.client_scan_id if scan is not None else None
        result.errors.append(RowError(i, cid, err.code, err.message))

    # Every code at once: issued codes by one look-up, others by signature on both cores.
    codes = [token_from_text(scan.code) for scan in scans]
    named = current_many(session, codes)
    seen_ids: set[str] = set()
    for i, scan in enumerate(scans):
        try:
            cid = scan.client_scan_id
            if not cid or len(cid) > 64:
                raise AppError("checkin.client_id_invalid", "Mã lượt quét phải có 1–64 ký tự.")
            if cid in seen_ids:
                result.duplicates += 1
                continue
            seen_ids.add(cid)
            at = check_time(scan.at, now)
            person = named[codes[i]]
            if isinstance(person, AppError):
                raise person
            rows.append(_Row(i, scan, at, person))
        except AppError as err:
            bad(i, scan, err)
    rows = _drop_known(session, device_token_id, rows, result)
    rows, venues = _check_venues(session, actor, rows, bad)
    if rows:
        _store(session, actor, device_token_id, rows, venues, result, now=now)
    record(
        session,
        actor,
        "checkin.batch",
        now=now,
        object_type="api_token",
        object_id=device_token_id,
        details={
            "received": result.received,
            "stored": result.stored,
            "extended": result.extended,
            "duplicates": result.duplicates,
            "errors": len(result.errors),
        },
    )
    result.errors.sort(key=lambda e: e.index)
    return result


def _drop_known(
    session: Session, token_id: int, rows: list[_Row], result: BatchResult
) -> list[_Row]:
    raw = Raw(session.connection())
    known: set[str] = set()
    for chunk in _chunks([r.scan.client_scan_id for r in rows]):
        sql, values = visit_rows.of_device(raw, "v.client_scan_id", token_id, chunk)
        known.update(cid for (cid,) in raw.run(sql, *values))
    result.duplicates += sum(1 for r in rows if r.scan.client_scan_id in known)
    return [r for r in rows if r.scan.client_scan_id not in known]


def _check_venues(
    session: Session, actor: Actor, rows: list[_Row], bad: Any
) -> tuple[list[_Row], dict[int, Venue]]:
    venue_ids = sorted({r.scan.venue_id for r in rows})
    venues: dict[int, Venue] = {}
    for chunk in _chunks(venue_ids):
        venues.update({v.id: v for v in session.scalars(select(Venue).where(Venue.id.in_(chunk)))})
    area_ids = sorted({v.area_id for v in venues.values()})
    areas = {a.id: a for a in session.scalars(select(Area).where(Area.id.in_(area_ids)))}
    location_ids = sorted({r.scan.location_id for r in rows if r.scan.location_id is not None})
    locations = (
        {
            loc.id: loc
            for loc in session.scalars(
                select(VenueLocation).where(VenueLocation.id.in_(location_ids))
            )
        }
        if location_ids
        else {}
    )
    refusal: dict[int, AppError | None] = {}
    for vid in venue_ids:
        venue = venues.get(vid)
        if venue is None:
            refusal[vid] = AppError("venue.not_found", "Không tìm thấy địa điểm.")
        elif not can(actor.principal, "venue.scan", venue_target(venue, areas[venue.area_id])):
            refusal[vid] = AppError(
                "forbidden", "Thiết bị này không được quét cho địa điểm này.", status=403
            )
        elif venue.status not in OPERATING:
            refusal[vid] = AppError(
                "checkin.venue_not_operating",
                "Địa điểm này chưa được duyệt hoặc đã ngừng hoạt động nên không nhận khai báo.",
            )
        else:
            refusal[vid] = None
    if not location_ids and not any(refusal.values()):
        return rows, venues  # the usual batch: every row passes, nothing to look at
    kept = []
    for r in rows:
        err = refusal[r.scan.venue_id]
        loc_id = r.scan.location_id
        if err is None and loc_id is not None:
            loc = locations.get(loc_id)
            if loc is None or loc.venue_id != r.scan.venue_id:
                err = AppError("checkin.location_mismatch", "Khu vực không thuộc địa điểm này.")
        if err is not None:
            bad(r.index, r.scan, err)
        else:
            kept.append(r)
    return kept, venues


def _store(
    session: Session,
    actor: Actor,
    token_id: int,
    rows: list[_Row],
    venues: dict[int, Venue],
    result: BatchResult,
    *,
    now: datetime,
) -> None:
    raw = Raw(session.connection())
    person_ids = [r.person_id for r in rows]
    timelines = _timelines(raw, sorted(set(person_ids)), min(r.at for r in rows))
    user_id = actor.principal.user_id if actor.principal else None
    received = raw.time_in(now)
    # Each venue's default stay, once (ORM attributes cost microseconds per read).
    stays = {vid: STAYS.minutes(session, v.type_id) for vid, v in venues.items()}
    # Most scans of a batch are a person's only scan in it, with no visit in the look-back:
    # the rules then open a new visit at the scan's time and change nothing else, so those
    # rows are written straight from the scans; the rest go through the rules in time order.
    scans_of = Counter(person_ids)
    lone: list[_Row] = []
    placed: list[_Row] = []
    for r in rows:
        (lone if scans_of[r.person_id] == 1 and r.person_id not in timelines else placed).append(r)
    new_rows = visit_rows.opened_values(
        raw,
        [
            (
                r.person_id,
                r.scan.venue_id,
                r.scan.location_id,
                r.at,
                stays[r.scan.venue_id],
                r.scan.client_scan_id,
            )
            for r in lone
        ],
        source=DEVICE_BATCH,
        recorded_by_id=user_id,
        device_token_id=token_id,
        received=received,
    )
    stored = [r.scan.client_scan_id for r in lone]
    before = {id(v): v.ending() for visits in timelines.values() for v in visits}
    created: list[tuple[_Row, visit_rows.VisitRow]] = []
    for r in sorted(placed, key=lambda r: (r.at, r.index)):
        visit, is_new = place_scan(
            timelines[r.person_id],
            venue_id=r.scan.venue_id,
            location_id=r.scan.location_id,
            at=r.at,
            stay_minutes=stays[r.scan.venue_id],
            new=visit_rows.VisitRow,
        )
        if is_new:
            visit.device_token_id, visit.client_scan_id = token_id, r.scan.client_scan_id
            created.append((r, visit))
        else:
            result.extended += 1
    # Written once every scan is placed: a later scan of the batch may extend or close them.
    for r, visit in created:
        new_rows.append(
            visit_rows.new_values(
                raw,
                visit,
                person_id=r.person_id,
                source=DEVICE_BATCH,
                recorded_by_id=user_id,
                received=received,
            )
        )
        stored.append(r.scan.client_scan_id)
    # Visits already stored that the new scans extended or closed.
    raw.many(
        visit_rows.UPDATE_SQL,
        [
            values
            for visits in timelines.values()
            for values in visit_rows.changes(raw, visits, before)
        ],
    )
    if new_rows:
        _insert_visits(session, raw, token_id, new_rows, stored)
    result.stored = len(new_rows)


def _timelines(
    raw: Raw, person_ids: list[int], earliest: datetime
) -> dict[int, list[visit_rows.VisitRow]]:
    """The people's visits from a day before the batch's first scan, as plain rows."""
    timelines: dict[int, list[visit_rows.VisitRow]] = defaultdict(list)
    since = raw.time_in(earliest - LOOKBACK)
    for chunk in _chunks(person_ids):
        among, values = raw.one_of("person_id", chunk)
        sql = (
            f"SELECT {visit_rows.READ_COLUMNS}, person_id FROM visits "  # noqa: S608  (constants)
            f"WHERE {among} AND checked_in_at >= ? ORDER BY checked_in_at, id"
        )
        for row in raw.run(sql, *values, since):
            timelines[row[-1]].append(visit_rows.read(raw, row))
    return timelines


def _insert_visits(
    session: Session, raw: Raw, token_id: int, rows: list[tuple[Any, ...]], ids: list[str]
) -> None:
    """New visits in one go, queued for counting (`checkins.counting`), inside the session's
    transaction. SQLite: one executemany, then the queue by client scan ids. PostgreSQL: COPY
    (psycopg's executemany sends a statement per row), with ids taken from the table's own
    sequence beforehand, so that the queue is a COPY of them too (finding them again by
    client scan id cost a third of the batch)."""
    if raw.sqlite:
        raw.many(visit_rows.INSERT_SQL, rows)
        queue_device_scans(raw, token_id, ids)
        return
    visit_ids = [
        vid
        for (vid,) in raw.run(
            "SELECT nextval(pg_get_serial_sequence('visits', 'id')) FROM generate_series(1, ?)",
            len(rows),
        )
    ]
    driver: Any = session.connection().connection.driver_connection
    with driver.cursor() as cur:
        with cur.copy(f"COPY visits (id, {visit_rows.NEW_COLUMNS}) FROM STDIN") as copy:
            for vid, row in zip(visit_ids, rows, strict=True):
                copy.write_row((vid, *row))
        with cur.copy("COPY uncounted_visits (visit_id) FROM STDIN") as copy:
            for vid in visit_ids:
                copy.write_row((vid,))
