"""The scan desk: a venue device's single scan of a personal QR, in a handful of statements on
the database driver's own connection.

A busy gate scans a person every second or two, and every scan is a request; through the ORM a
scan cost ~2 ms of CPU, most of it building and tracking objects that live for one request.
Here the same work reads and writes plain rows: the token's row, the venue's row (open? which
type?), the code's issuance record with its person's row (is this code still current?), the
person's visits of the last day, then one insert and its place in the counting queue
(`checkins.counting`): five statements, each a round trip on PostgreSQL. The rules are the very
functions the ORM path uses (`check_time`, `check_operating`, `place_scan`); only the reading and
writing differ.

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
from phongdich.checkins import counting
from phongdich.checkins import rows as visit_rows
from phongdich.checkins.service import (
    CREATED,
    DUPLICATE,
    EXTENDED,
    HARDWARE_SCANNER,
    LOOKBACK,
    STAYS,
    check_operating_status,
    check_time,
    place_scan,
)
from phongdich.core.errors import NotFound
from phongdich.db import Raw
from phongdich.people.ids import guess_id_type, looks_like_chip_qr
from phongdich.people.personal_qr import named_with_holder, revoked, token_from_text


class NotForTheDesk(Exception):
    """This scan needs the general path (nothing has been written)."""


@dataclass(frozen=True)
class DeskScan:
    outcome: str  # created / extended / duplicate
    visit_id: int
    person_id: int
    full_name: str
    birth_year: int | None


_PERSON = "SELECT full_name, birth_year, qr_serial FROM people WHERE id = ?"
_VENUE = "SELECT status, type_id FROM venues WHERE id = ?"
_LOCATION = "SELECT venue_id FROM venue_locations WHERE id = ?"
_TIMELINE = (
    f"SELECT {visit_rows.READ_COLUMNS} FROM visits "  # noqa: S608  (the rows module's constants)
    "WHERE person_id = ? AND checked_in_at >= ? ORDER BY checked_in_at, id"
)


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
    venue = db.run(_VENUE, venue_id)
    if not venue:
        raise NotFound("venue.not_found", "Không tìm thấy địa điểm.", {"venue_id": venue_id})
    status, type_id = venue[0]
    person_id, serial, holder = named_with_holder(conn, personal_token(code))
    if holder is None:  # a code checked by its signature: its person is read here
        person = db.run(_PERSON, person_id)
        holder = person[0] if person else None
    if holder is None or holder[2] != serial:
        raise revoked(person_id)
    full_name, birth_year = holder[0], holder[1]
    check_operating_status(venue_id, status)
    if location_id is not None:
        location = db.run(_LOCATION, location_id)
        if not location or location[0][0] != venue_id:
            raise NotForTheDesk  # the general path names the problem
    at = check_time(at or now, now)
    timeline = [
        visit_rows.read(db, r) for r in db.run(_TIMELINE, person_id, db.time_in(at - LOOKBACK))
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
        new=visit_rows.VisitRow,
    )
    for values in visit_rows.changes(db, timeline, before):
        db.run(visit_rows.UPDATE_SQL, *values)
    if not is_new:
        assert visit.id is not None
        return DeskScan(EXTENDED, visit.id, person_id, full_name, birth_year)
    visit.device_token_id, visit.client_scan_id = token_id, client_scan_id
    values = visit_rows.new_values(
        db,
        visit,
        person_id=person_id,
        source=HARDWARE_SCANNER,
        recorded_by_id=None,  # a device, not a user
        received=db.time_in(now),
    )
    visit_id = counting.insert_queued(db, values)
    return DeskScan(CREATED, visit_id, person_id, full_name, birth_year)
