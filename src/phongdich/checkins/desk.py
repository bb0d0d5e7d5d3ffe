"""The scan desk: a venue device's single scan of a personal QR, in a handful of statements on
the database driver's own connection.

A busy gate scans a person every second or two, and every scan is a request; through the ORM a
scan cost ~2 ms of CPU, most of it building and tracking objects that live for one request.
Here the same work reads and writes plain rows: the token's row, the person's row (is this code
still current?), the venue's row (open? which type?), the person's visits of the last day, then
one insert, two counter upserts and one venue update. The rules are the very functions the ORM
path uses (`check_time`, `check_operating`, `place_scan`); only the reading and writing differ.

The desk takes only the common case and says `NotForTheDesk` for anything else before it has
written a thing (a chip-card string or a typed ID, a token not held for this very venue, a
sub-location of another venue): the caller then takes the general path, which gives the same
answer more slowly, or the right refusal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from phongdich.auth.policy import Principal, Target, can
from phongdich.checkins.service import (
    CREATED,
    DUPLICATE,
    EXTENDED,
    HARDWARE_SCANNER,
    LOOKBACK,
    STAYS,
    VisitRow,
    check_operating_status,
    check_time,
    place_scan,
)
from phongdich.core.clock import local_day
from phongdich.core.errors import NotFound
from phongdich.db import Raw
from phongdich.people.ids import guess_id_type, looks_like_chip_qr
from phongdich.people.personal_qr import named_in, revoked, token_from_text
from phongdich.venues.activity import REVIVABLE
from phongdich.venues.queries import ACTIVE


class NotForTheDesk(Exception):
    """This scan needs the general path (nothing has been written)."""


@dataclass(frozen=True)
class DeskScan:
    outcome: str  # created / extended / duplicate
    visit_id: int
    person_id: int
    full_name: str
    birth_year: int | None


_IN = "INSERT INTO "
_SQL = {
    "person": "SELECT full_name, birth_year, qr_serial FROM people WHERE id = ?",
    "venue": "SELECT status, type_id FROM venues WHERE id = ?",
    "location": "SELECT venue_id FROM venue_locations WHERE id = ?",
    "timeline": (
        "SELECT id, venue_id, location_id, checked_in_at, last_seen_at, checked_out_at, "
        "end_rule, default_stay_minutes, device_token_id, client_scan_id FROM visits "
        "WHERE person_id = ? AND checked_in_at >= ? ORDER BY checked_in_at, id"
    ),
    "update_visit": (
        "UPDATE visits SET last_seen_at = ?, checked_out_at = ?, end_rule = ? WHERE id = ?"
    ),
    "insert_visit": (
        _IN + "visits (person_id, venue_id, location_id, source, checked_in_at, last_seen_at, "
        "checked_out_at, end_rule, default_stay_minutes, recorded_by_id, device_token_id, "
        "client_scan_id, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id"
    ),
    # The same upserts as `venues.activity.record_scan`, written out for the driver.
    "visitor": (
        _IN + "venue_visitors (venue_id, person_key, last_day) VALUES (?, ?, ?) "
        "ON CONFLICT (venue_id, person_key) DO UPDATE SET last_day = excluded.last_day "
        "WHERE venue_visitors.last_day < excluded.last_day RETURNING id"
    ),
    "daily": (
        _IN + "venue_daily_activity (venue_id, day, scans, visitors, poster_checks) "
        "VALUES (?, ?, 1, ?, 0) ON CONFLICT (venue_id, day) DO UPDATE SET "
        "scans = venue_daily_activity.scans + excluded.scans, "
        "visitors = venue_daily_activity.visitors + excluded.visitors"
    ),
    # Built from this module's constants, no input (S608).
    "venue_seen": (
        "UPDATE venues SET last_scan_at = ?, status = CASE WHEN status IN ("  # noqa: S608
        + ", ".join(f"'{s}'" for s in REVIVABLE)
        + f") THEN '{ACTIVE}' ELSE status END "
        "WHERE id = ? AND (last_scan_at IS NULL OR last_scan_at <= ?)"
    ),
    "token_seen": "UPDATE api_tokens SET last_used_at = ? WHERE id = ?",
}


def personal_token(text: str) -> str:
    """The personal QR token in scanned text, or NotForTheDesk for a chip card or a typed ID."""
    text = (text or "").strip()
    if not text or looks_like_chip_qr(text) or guess_id_type(text) is not None:
        raise NotForTheDesk
    return token_from_text(text)


def scan(
    conn: Connection,
    principal: Principal,
    *,
    venue_id: int,
    code: str,
    now: datetime,
    at: datetime | None = None,
    location_id: int | None = None,
    client_scan_id: str | None = None,
    token_touch: bool = False,
) -> DeskScan:
    """Record one device scan of a personal QR (the caller commits); the same outcome as
    `record_check_in` with source `hardware_scanner`."""
    token_id = principal.token_id
    if token_id is None or not can(
        principal, "venue.scan", Target(object_type="venue", object_id=venue_id)
    ):
        raise NotForTheDesk  # a session user, or a grant over an area: the general path
    db = Raw(conn)
    # The checks in the order of the general path, so that both refuse alike.
    venue = db.run(_SQL["venue"], venue_id)
    if not venue:
        raise NotFound("venue.not_found", "Không tìm thấy địa điểm.", {"venue_id": venue_id})
    status, type_id = venue[0]
    person_id, serial = named_in(conn, personal_token(code))
    person = db.run(_SQL["person"], person_id)
    if not person or person[0][2] != serial:
        raise revoked(person_id)
    full_name, birth_year = person[0][0], person[0][1]
    check_operating_status(venue_id, status)
    if location_id is not None:
        location = db.run(_SQL["location"], location_id)
        if not location or location[0][0] != venue_id:
            raise NotForTheDesk  # the general path names the problem
    at = check_time(at or now, now)
    timeline = [
        VisitRow(
            id=r[0],
            venue_id=r[1],
            location_id=r[2],
            checked_in_at=db.moment(r[3]),
            last_seen_at=db.moment(r[4]),
            checked_out_at=db.time_out(r[5]),
            end_rule=r[6],
            default_stay_minutes=r[7],
            device_token_id=r[8],
            client_scan_id=r[9],
        )
        for r in db.run(_SQL["timeline"], person_id, db.time_in(at - LOOKBACK))
    ]
    if client_scan_id is not None:
        for existing in timeline:  # a retried scan is among the visits around its own time
            if (existing.device_token_id, existing.client_scan_id) == (token_id, client_scan_id):
                assert existing.id is not None
                return DeskScan(DUPLICATE, existing.id, person_id, full_name, birth_year)
    before = {id(v): v.ending() for v in timeline}
    visit, is_new = place_scan(
        timeline,
        venue_id=venue_id,
        location_id=location_id,
        at=at,
        stay_minutes=STAYS.minutes(conn, type_id),
        new=VisitRow,
    )
    for v in timeline:
        if (v is not visit or not is_new) and before.get(id(v)) != v.ending():
            db.run(
                _SQL["update_visit"],
                db.time_in(v.last_seen_at),
                db.time_in(v.checked_out_at),
                v.end_rule,
                v.id,
            )
    if token_touch:
        db.run(_SQL["token_seen"], db.time_in(now), token_id)
    if not is_new:
        assert visit.id is not None
        return DeskScan(EXTENDED, visit.id, person_id, full_name, birth_year)
    visit_id = db.run(
        _SQL["insert_visit"],
        person_id,
        venue_id,
        location_id,
        HARDWARE_SCANNER,
        db.time_in(at),
        db.time_in(at),
        db.time_in(visit.checked_out_at),
        visit.end_rule,
        visit.default_stay_minutes,
        None,  # recorded by a device, not a user
        token_id,
        client_scan_id,
        db.time_in(now),
    )[0][0]
    day = db.day_in(local_day(at))
    new_visitor = bool(db.run(_SQL["visitor"], venue_id, str(person_id), day))
    db.run(_SQL["daily"], venue_id, day, int(new_visitor))
    db.run(_SQL["venue_seen"], db.time_in(at), venue_id, db.time_in(at))
    return DeskScan(CREATED, visit_id, person_id, full_name, birth_year)
