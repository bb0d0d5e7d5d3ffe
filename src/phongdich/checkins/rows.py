"""Visits as plain rows, for the hot paths (the scan desk, a device's batch) where ORM objects
would cost more than the SQL: the one place that knows which columns they read and write and
how values cross the driver (`db.Raw`). The rules (`service.place_scan`) work on these rows as
they do on ORM visits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from phongdich.db import Raw


@dataclass(slots=True)
class VisitRow:
    """A visit as the check-out rules see it (`service.VisitLike`), with what duplicate checks
    need; `id` is None until it is stored."""

    venue_id: int
    location_id: int | None
    checked_in_at: datetime
    last_seen_at: datetime
    default_stay_minutes: int
    checked_out_at: datetime | None = None
    end_rule: str | None = None
    id: int | None = None
    device_token_id: int | None = None
    client_scan_id: str | None = None

    def ending(self) -> tuple[datetime, datetime | None, str | None]:
        return self.last_seen_at, self.checked_out_at, self.end_rule


# What `read` takes, in order; a query may select more columns after these.
READ_COLUMNS = (
    "id, venue_id, location_id, checked_in_at, last_seen_at, checked_out_at, end_rule, "
    "default_stay_minutes, device_token_id, client_scan_id"
)
_READ_COUNT = READ_COLUMNS.count(",") + 1


def read(raw: Raw, row: Sequence[Any]) -> VisitRow:
    vid, venue_id, loc_id, cin, seen, out, rule, stay, token_id, client_id = row[:_READ_COUNT]
    return VisitRow(
        id=vid,
        venue_id=venue_id,
        location_id=loc_id,
        checked_in_at=raw.moment(cin),
        last_seen_at=raw.moment(seen),
        checked_out_at=raw.time_out(out),
        end_rule=rule,
        default_stay_minutes=stay,
        device_token_id=token_id,
        client_scan_id=client_id,
    )


NEW_COLUMNS = (
    "person_id, venue_id, location_id, source, checked_in_at, last_seen_at, checked_out_at, "
    "end_rule, default_stay_minutes, recorded_by_id, device_token_id, client_scan_id, "
    "received_at"
)
INSERT_SQL = (
    f"INSERT INTO visits ({NEW_COLUMNS}) "  # noqa: S608  (this module's constants)
    f"VALUES ({Raw.marks(NEW_COLUMNS.count(',') + 1)})"
)


def new_values(
    raw: Raw,
    visit: VisitRow,
    *,
    person_id: int,
    source: str,
    recorded_by_id: int | None,
    received: Any,
) -> tuple[Any, ...]:
    """The values of NEW_COLUMNS for a visit the rules have just placed; `received` is the
    receipt time as stored (`raw.time_in(now)`, converted once for a whole batch)."""
    checked_in = raw.time_in(visit.checked_in_at)
    return (
        person_id,
        visit.venue_id,
        visit.location_id,
        source,
        checked_in,
        # A new visit was last seen when it began, unless a later scan already extended it.
        checked_in
        if visit.last_seen_at is visit.checked_in_at
        else raw.time_in(visit.last_seen_at),
        raw.time_in(visit.checked_out_at),
        visit.end_rule,
        visit.default_stay_minutes,
        recorded_by_id,
        visit.device_token_id,
        visit.client_scan_id,
        received,
    )


def opened_values(
    raw: Raw,
    scans: Sequence[tuple[int, int, int | None, datetime, int, str | None]],
    *,
    source: str,
    recorded_by_id: int | None,
    device_token_id: int | None,
    received: Any,
) -> list[tuple[Any, ...]]:
    """NEW_COLUMNS values of new open visits, one per (person id, venue id, location id, time,
    default stay minutes, client scan id): what `new_values` gives for a visit the rules opened
    at the scan's time with nothing after it, without building the visit first."""
    time_in = raw.time_in
    out = []
    for person_id, venue_id, location_id, at, stay, client_scan_id in scans:
        checked_in = time_in(at)
        out.append(
            (person_id, venue_id, location_id, source, checked_in, checked_in, None, None, stay,
             recorded_by_id, device_token_id, client_scan_id, received)
        )  # fmt: skip
    return out


UPDATE_SQL = "UPDATE visits SET last_seen_at = ?, checked_out_at = ?, end_rule = ? WHERE id = ?"


def changes(
    raw: Raw, visits: Sequence[VisitRow], before: dict[int, tuple[Any, ...]]
) -> list[tuple[Any, ...]]:
    """UPDATE_SQL values for the stored visits whose ending the rules changed; `before` holds
    each visit's `ending()` by `id(visit)` from before the rules ran."""
    return [
        (raw.time_in(v.last_seen_at), raw.time_in(v.checked_out_at), v.end_rule, v.id)
        for v in visits
        if v.id is not None and before[id(v)] != v.ending()
    ]


def of_device(
    raw: Raw, columns: str, token_id: int, client_scan_ids: Sequence[str]
) -> tuple[str, tuple[Any, ...]]:
    """A SELECT of `columns` (of `v`, the visit) from one device's visits with these client scan
    ids, and its values: one probe of the unique (device, client scan id) index per id. On
    PostgreSQL that takes a LATERAL join over the ids; the plain `= ANY` let the planner filter
    every visit of the device instead (with statistics from before a large upload, it judged
    the device to have one visit): ~25 ms per 500 ids once a device had 60,000 visits. The
    LIMIT keeps the subquery from being flattened into a merge join, which read all the
    device's visits too (5-7 ms per 500 ids at 20,000 visits, against 2 ms by probes)."""
    if raw.sqlite:
        return (
            f"SELECT {columns} FROM visits v WHERE v.device_token_id = ? "  # noqa: S608
            f"AND v.client_scan_id IN ({raw.marks(len(client_scan_ids))})",
            (token_id, *client_scan_ids),
        )
    return (
        f"SELECT {columns} FROM unnest(?::varchar[]) AS c(client_scan_id) "  # noqa: S608
        "CROSS JOIN LATERAL (SELECT * FROM visits WHERE device_token_id = ? "
        "AND client_scan_id = c.client_scan_id LIMIT 1) v",
        (list(client_scan_ids), token_id),
    )
