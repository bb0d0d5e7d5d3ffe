"""Check-in services on a real database: device batches, history and its look-up log, the
venue's day list, and retention (which leaves the venue counters whole)."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from phongdich.audit.service import Actor
from phongdich.auth.policy import Grant, Principal
from phongdich.auth.roles import Role
from phongdich.checkins.batch import RawScan, record_batch
from phongdich.checkins.counting import count_visits
from phongdich.checkins.history import look_up_history, lookups_of, own_history, venue_day
from phongdich.checkins.service import CITIZEN_SCAN, STAFF_SCAN, record_check_in
from phongdich.checkins.tasks import delete_old_checkins
from phongdich.core.errors import AppError, Forbidden
from phongdich.models import AuditEntry, HistoryLookup, Person, VenueDailyActivity, Visit
from phongdich.people.personal_qr import issue_qr
from tests.checkins.factories import citizen_with_person, dependant, qr_of, venue
from tests.conftest import T0
from tests.factories import HOA_AN, TP_CAO_BANG, official, venue_user
from tests.venues.factories import actor_of

M = timedelta(minutes=1)


def device(venue_id: int, token_id: int = 0) -> Actor:
    """A scanner's principal, as `principal_for_token` builds it."""
    grant = Grant(Role.VENUE_STAFF, object_type="venue", object_id=venue_id)
    return Actor(Principal(label="máy quét", token_id=token_id or None, grants=(grant,)))


def visits(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Visit)) or 0


def test_a_batch_stores_good_rows_reports_bad_ones_and_is_idempotent(db: Session) -> None:
    from tests.checkins.factories import device_token

    gate, elsewhere = venue(db), venue(db)
    _, token_id = device_token(db, gate)
    people = [citizen_with_person(db)[1] for _ in range(3)]
    tokens = [qr_of(db, p) for p in people]
    revoked = tokens[2]
    issue_qr(db, actor_of(db, db.get(__import__("phongdich.models").models.User,
                                     people[2].user_id)), people[2], now=T0)  # fmt: skip
    scans = [
        RawScan("a-1", f"https://x/p/{tokens[0]}", T0, gate.id),
        RawScan("a-2", tokens[1], T0 + M, gate.id),
        RawScan("a-3", tokens[0], T0 + 2 * M, gate.id),  # same person within minutes: extends
        RawScan("a-4", tokens[1][:-3] + "abc", T0, gate.id),  # edited signature
        RawScan("a-5", tokens[1], T0, elsewhere.id),  # not this device's venue
        RawScan("a-6", revoked, T0, gate.id),  # replaced by a newer code
        RawScan("", tokens[1], T0, gate.id),  # no client id
        RawScan("a-8", tokens[1], T0 + timedelta(hours=2), gate.id),  # from the future
        RawScan("a-1", tokens[0], T0, gate.id),  # the same id twice in one batch
    ]
    actor = device(gate.id, token_id)
    result = record_batch(db, actor, device_token_id=token_id, scans=scans, now=T0 + 5 * M)
    assert (result.stored, result.extended, result.duplicates) == (2, 1, 1)
    assert [(e.index, e.code) for e in result.errors] == [
        (3, "qr.signature_invalid"),
        (4, "forbidden"),
        (5, "qr.person_revoked"),
        (6, "checkin.client_id_invalid"),
        (7, "checkin.time_future"),
    ]
    assert visits(db) == 2
    again = record_batch(db, actor, device_token_id=token_id, scans=scans, now=T0 + 6 * M)
    # Stored scans come back as duplicates; the one that only extended a visit extends it to
    # the same time again, which changes nothing.
    assert (again.stored, again.extended, again.duplicates) == (0, 1, 3)
    assert visits(db) == 2
    stored = db.scalars(select(Visit).order_by(Visit.client_scan_id)).all()
    assert [v.source for v in stored] == ["device_batch", "device_batch"]
    assert stored[0].last_seen_at == T0 + 2 * M
    # Each stored visit was queued for the counters once: the retry queued nothing.
    assert count_visits(db, T0 + 7 * M) == {"counted": 2, "gone": 0}
    daily = db.scalar(select(VenueDailyActivity).where(VenueDailyActivity.venue_id == gate.id))
    assert daily is not None and (daily.scans, daily.visitors) == (2, 2)
    assert db.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "checkin.batch")) == 2  # fmt: skip


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_batch_ends_as_the_same_scans_sent_one_at_a_time(db: Session, seed: int) -> None:
    """A batch applies the rules to its scans in time order, whatever order they came in, and
    writes a person's lone scan straight as a new visit: two groups of people with the same
    earlier visits and the same scans, one sent as a shuffled batch, the other one scan per
    upload in time order, end with the same visits."""
    from tests.checkins.factories import device_token

    rnd = random.Random(seed)  # noqa: S311  (a scenario, not a secret)
    gate, shop = venue(db), venue(db, type_code="market")
    _, token_id = device_token(db, gate)
    grants = tuple(
        Grant(Role.VENUE_STAFF, object_type="venue", object_id=v.id) for v in (gate, shop)
    )
    actor = Actor(Principal(label="máy quét", token_id=token_id, grants=grants))
    staff = actor_of(db, venue_user(db, Role.VENUE_STAFF, shop.id))
    groups: list[list[Person]] = [[], []]
    for _ in range(8):
        pair = [citizen_with_person(db)[1] for _ in groups]
        earlier = rnd.choice([None, 30, 90, 150])  # minutes before the first scan: a visit
        for group, person in zip(groups, pair, strict=True):
            group.append(person)
            if earlier is not None:
                record_check_in(db, staff, person=person, venue=shop, source=STAFF_SCAN,
                                now=T0 - earlier * M)  # fmt: skip
    plan = []  # (person index, venue, minutes after T0), some within the extension window
    for i in range(8):
        at = rnd.randrange(0, 60)
        for _ in range(rnd.choice([1, 1, 2, 3])):
            plan.append((i, rnd.choice([gate, shop]), at))
            at += rnd.choice([2, 4, 40, 200])
    now = T0 + timedelta(hours=12)

    def scan(group: int, n: int) -> RawScan:
        i, place, minutes = plan[n]
        return RawScan(f"{group}-{n}", qr_of(db, groups[group][i]), T0 + minutes * M, place.id)

    batch = [scan(0, n) for n in range(len(plan))]
    rnd.shuffle(batch)
    whole = record_batch(db, actor, device_token_id=token_id, scans=batch, now=now)
    stored = extended = 0
    for n in sorted(range(len(plan)), key=lambda n: plan[n][2]):
        one = record_batch(db, actor, device_token_id=token_id, scans=[scan(1, n)], now=now)
        stored, extended = stored + one.stored, extended + one.extended
    assert not whole.errors and (whole.stored, whole.extended) == (stored, extended)

    def ends(group: list[Person]) -> list[list[tuple[object, ...]]]:
        return [
            [
                (v.venue_id, v.checked_in_at, v.last_seen_at, v.checked_out_at, v.end_rule)
                for v in db.scalars(
                    select(Visit).where(Visit.person_id == p.id).order_by(Visit.checked_in_at)
                )
            ]
            for p in group
        ]

    assert ends(groups[0]) == ends(groups[1])
    assert whole.extended > 0 and any(len(v) > 2 for v in ends(groups[0]))


def test_a_staff_member_of_one_venue_cannot_scan_for_another(db: Session) -> None:
    _, me = citizen_with_person(db)
    mine, theirs = venue(db), venue(db)
    staff = actor_of(db, venue_user(db, Role.VENUE_STAFF, mine.id))
    record_check_in(db, staff, person=me, venue=mine, now=T0, source=STAFF_SCAN)
    with pytest.raises(Forbidden):
        record_check_in(db, staff, person=me, venue=theirs, now=T0 + M, source=STAFF_SCAN)
    stranger, _ = citizen_with_person(db)
    with pytest.raises(Forbidden):  # a citizen checks in only themselves and their dependants
        record_check_in(
            db, actor_of(db, stranger), person=me, venue=mine, now=T0, source=CITIZEN_SCAN
        )


def test_history_for_the_citizen_and_purpose_bound_look_ups(db: Session) -> None:
    mum, me = citizen_with_person(db, name="Lương Thị Hoa")
    child = dependant(db, mum)
    pho = venue(db, name="Quán phở Hương")
    actor = actor_of(db, mum)
    for p in (me, child):
        record_check_in(db, actor, person=p, venue=pho, now=T0, source=CITIZEN_SCAN)
    mine = own_history(db, actor, mum, now=T0 + M)
    assert [v.venue_name for v in mine[me.id]] == ["Quán phở Hương"]
    assert [v.person_name for v in mine[child.id]] == ["Triệu Văn Bé"]
    assert mine[me.id][0].estimated and mine[me.id][0].end_rule == "default_stay"

    tracer = official(db, Role.HEALTH_OFFICER, TP_CAO_BANG, name="Đàm Thị Y")
    with pytest.raises(AppError) as err:  # no stated purpose, no look-up
        look_up_history(db, actor_of(db, tracer), me, purpose="xem", now=T0 + M)
    assert err.value.code == "history.purpose_required"
    assert db.scalar(select(func.count()).select_from(HistoryLookup)) == 0
    found = look_up_history(
        db, actor_of(db, tracer), me, purpose="Truy vết ca F0 BN-0412", case_ref="BN-0412",
        now=T0 + 2 * M,
    )  # fmt: skip
    assert [v.venue_name for v in found] == ["Quán phở Hương"]
    outsider = official(db, Role.HEALTH_OFFICER, HOA_AN)
    with pytest.raises(Forbidden):  # the person has no commune; the visits were in TP Cao Bằng
        look_up_history(db, actor_of(db, outsider), me, purpose="Tò mò xem thử thôi", now=T0)
    seen = lookups_of(db, actor, mum)
    assert [(s.actor_label, s.purpose, s.visits_shown) for s in seen] == [
        ("Đàm Thị Y (" + tracer.username + ")", "Truy vết ca F0 BN-0412", 1)  # type: ignore[operator]
    ]


def test_the_venue_sees_todays_list_and_occupancy(db: Session) -> None:
    pho = venue(db)
    staff = actor_of(db, venue_user(db, Role.VENUE_STAFF, pho.id))
    people = [citizen_with_person(db)[1] for _ in range(3)]
    for i, p in enumerate(people):
        record_check_in(db, staff, person=p, venue=pho, now=T0 + i * M, source=STAFF_SCAN)
    from phongdich.checkins.service import check_out

    check_out(db, staff, db.scalars(select(Visit).order_by(Visit.id)).first(), now=T0 + 10 * M)  # type: ignore[arg-type]
    day = venue_day(db, staff, pho, now=T0 + 20 * M)
    assert len(day.visits) == 3 and day.occupancy == 2 and day.total == 3
    # A short list (the scanner page's) still counts everyone inside and every visit today.
    latest = venue_day(db, staff, pho, now=T0 + 20 * M, limit=1)
    assert [v.person_id for v in latest.visits] == [people[2].id]
    assert (latest.occupancy, latest.total) == (2, 3)
    assert venue_day(db, staff, pho, now=T0 + 3 * 60 * M).occupancy == 0  # 90-min stays over
    other = venue(db)
    with pytest.raises(Forbidden):
        venue_day(db, staff, other, now=T0)


def test_retention_removes_old_visits_only_and_counters_still_add_up(db: Session) -> None:
    pho = venue(db)
    staff = actor_of(db, venue_user(db, Role.VENUE_STAFF, pho.id))
    people = [citizen_with_person(db)[1] for _ in range(4)]
    days = [0, 10, 27, 29]  # days before "now"
    now = T0 + timedelta(days=40)
    for p, ago in zip(people, days, strict=True):
        at = now - timedelta(days=ago)
        record_check_in(db, staff, person=p, venue=pho, now=at, source=STAFF_SCAN)
    assert visits(db) == 4
    assert db.scalar(select(func.sum(VenueDailyActivity.scans))) is None  # queued, not counted
    # The retention run counts what is queued before it deletes anything.
    result = delete_old_checkins(db, now, retention_days=28)
    assert result["deleted"] == 1 and result["retention_days"] == 28
    left = db.scalars(select(Visit.checked_in_at)).all()
    assert sorted(now - at for at in left) == [timedelta(days=d) for d in (0, 10, 27)]
    assert db.scalar(select(func.sum(VenueDailyActivity.scans))) == 4  # aggregates stay
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "checkin.retention"))
    assert entry is not None and entry.details["deleted"] == 1
    assert delete_old_checkins(db, now, retention_days=28)["deleted"] == 0
    with pytest.raises(AppError):
        delete_old_checkins(db, now, retention_days=0)
