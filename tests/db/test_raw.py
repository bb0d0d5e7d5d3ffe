"""`db.Raw` writes times as the ORM's `UTCDateTime` columns store them, so rows written by the
scan desk and by the ORM compare and sort alike (on SQLite, text)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy.orm import Session

from phongdich.db import Raw
from phongdich.models import AuditEntry


def test_raw_times_are_stored_as_the_orm_stores_them(db: Session) -> None:
    raw = Raw(db.connection())
    hanoi = timezone(timedelta(hours=7))
    moments = [
        datetime(2021, 11, 15, 2, 3, 4, 5, tzinfo=UTC),  # the usual case
        datetime(2021, 11, 15, 2, 3, 4, tzinfo=UTC),  # no microseconds
        datetime(2021, 11, 15, 9, 3, 4, 5, tzinfo=hanoi),  # the same moment, another zone
    ]
    ids = []
    for m in moments:
        raw.run("INSERT INTO audit_log (at, actor_label, action) VALUES (?, 'x', 'probe')",
                raw.time_in(m))  # fmt: skip
        ids.append(raw.run("SELECT max(id) FROM audit_log")[0][0])
    stored = [raw.run("SELECT at FROM audit_log WHERE id = ?", i)[0][0] for i in ids]
    assert stored[0] == stored[2]  # one moment, one stored value
    assert [raw.moment(v) for v in stored] == [m.astimezone(UTC) for m in moments]
    # Read back as aware UTC (the same tzinfo the fast path of `time_in` looks for), also
    # text written without a fraction of a second.
    assert all(raw.moment(v).tzinfo is UTC for v in stored)
    if raw.sqlite:
        assert raw.moment("2021-11-15 02:03:04") == datetime(2021, 11, 15, 2, 3, 4, tzinfo=UTC)
    # The ORM stores the same moments the same way, so raw and ORM rows compare and sort alike.
    orm = [AuditEntry(at=m, actor_label="x", action="probe") for m in moments[:2]]
    db.add_all(orm)
    db.flush()
    assert [raw.run("SELECT at FROM audit_log WHERE id = ?", e.id)[0][0] for e in orm] == (
        stored[:2]
    )
