"""Co-presence arithmetic: from visits to explained exposure candidates. Pure functions.

A check-in cannot see masks or distance, so sharing a venue at the same time yields F1
*candidates*; a health officer confirms them. The rules (domain.md, after Corona-Warn-App,
CLÉA and the NHS app):
- a visit without a check-out ends at the earliest of the person's next check-in anywhere, the
  venue type's default stay, and local midnight (Asia/Ho_Chi_Minh);
- case visits shorter than the minimum stay are dropped;
- the case's stay is extended by the linger time after they leave, and widened by the clock-skew
  buffer on both sides;
- intervals that only touch do not overlap;
- overlap is summed per person per venue per local day; the sum decides the category.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache

from phongdich.core.clock import VN_TZ, local_day
from phongdich.tracing.rules import ExposureRules


class EndRule(StrEnum):
    EXPLICIT = "explicit"  # the person or staff checked out
    NEXT_CHECKIN = "next_checkin"  # closed by the person's next check-in elsewhere
    DEFAULT_STAY = "default_stay"  # the venue type's usual stay
    END_OF_DAY = "end_of_day_cap"  # capped at local midnight


class Category(StrEnum):
    F1_LIKELY = "f1_likely"  # summed overlap ≥ the minimum (15 min), or same household
    F1_CANDIDATE = "f1_candidate"  # some overlap, below the minimum
    SAME_VENUE_SAME_DAY = "same_venue_same_day"  # there that day, no overlap


@dataclass(frozen=True)
class Stay:
    """A visit with a known end, and how the end was known."""

    visit_id: int
    person_id: int
    venue_id: int
    start: datetime
    end: datetime
    end_rule: EndRule


def next_local_midnight(moment: datetime) -> datetime:
    """The first instant of the next local day, as an aware datetime."""
    local = moment.astimezone(VN_TZ)
    midnight = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=VN_TZ)
    return midnight.astimezone(moment.tzinfo)


def derive_end(
    start: datetime,
    *,
    checked_out_at: datetime | None,
    next_checkin_at: datetime | None,
    default_stay: timedelta,
) -> tuple[datetime, EndRule]:
    """When a visit ended, and by which rule. An explicit check-out always wins."""
    if checked_out_at is not None and checked_out_at >= start:
        return checked_out_at, EndRule.EXPLICIT
    candidates: list[tuple[datetime, EndRule]] = [
        (start + default_stay, EndRule.DEFAULT_STAY),
        (next_local_midnight(start), EndRule.END_OF_DAY),
    ]
    if next_checkin_at is not None and next_checkin_at > start:
        candidates.append((next_checkin_at, EndRule.NEXT_CHECKIN))
    # On a tie the more certain rule is named: a real next check-in before an estimate.
    order = [EndRule.NEXT_CHECKIN, EndRule.DEFAULT_STAY, EndRule.END_OF_DAY]
    return min(candidates, key=lambda c: (c[0], order.index(c[1])))


def overlap(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> timedelta:
    """Length of the common part; intervals that only touch share nothing."""
    return max(timedelta(0), min(a_end, b_end) - max(a_start, b_start))


@lru_cache(maxsize=4096)
def _midnight_after(day: date) -> datetime:
    """The first instant (UTC) of the local day after `day`; cached, as every stay needs it."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=VN_TZ).astimezone(UTC)


def split_by_local_day(start: datetime, end: datetime) -> list[tuple[date, datetime, datetime]]:
    """Cut an interval at local midnights, so overlap can be summed per local day."""
    parts: list[tuple[date, datetime, datetime]] = []
    cursor = start
    while cursor < end:
        day = local_day(cursor)
        midnight = _midnight_after(day)
        cut = end if end < midnight else midnight
        parts.append((day, cursor, cut))
        cursor = cut
    return parts


def case_exposure_interval(stay: Stay, rules: ExposureRules) -> tuple[datetime, datetime]:
    """The time others could have been exposed: the stay widened by skew, plus lingering air."""
    return stay.start - rules.clock_skew, stay.end + rules.linger_after_case + rules.clock_skew


@dataclass
class Contact:
    """One contact visit's overlap with one case visit."""

    case_visit_id: int
    contact_visit_id: int
    venue_id: int
    day: date
    overlap: timedelta
    contact_start: datetime
    contact_end: datetime
    contact_end_rule: EndRule
    case_start: datetime
    case_end: datetime
    case_end_rule: EndRule


@dataclass
class Candidate:
    """A person who may be an F1, with every contact that explains why."""

    person_id: int
    category: Category
    total_overlap: timedelta
    # The largest per-venue-per-day sum: what the 15-minute rule is applied to.
    best_daily_overlap: timedelta
    household: bool
    rules_version: str
    contacts: list[Contact] = field(default_factory=list)


def find_candidates(
    case_stays: Sequence[Stay],
    other_stays: Iterable[Stay],
    rules: ExposureRules,
    *,
    case_person_id: int,
    window: tuple[datetime, datetime],
    household: frozenset[int] = frozenset(),
    same_day_people: Collection[int] = (),
) -> list[Candidate]:
    """Everyone whose stays overlap the case's qualifying stays within the infectious window,
    strongest first. Household members are F1-likely whatever the check-ins say.

    `same_day_people` are people known (from a read of ids only) to have spent time at a
    source's venue on a local day the source was there; they are candidates like those whose
    `other_stays` show it."""
    w_start, w_end = window
    sources = [
        s
        for s in case_stays
        if s.end - s.start >= rules.min_case_stay and s.end > w_start and s.start < w_end
    ]
    by_venue: dict[int, list[Stay]] = defaultdict(list)
    for s in sources:
        by_venue[s.venue_id].append(s)
    case_days = {
        (s.venue_id, day) for s in sources for day, _a, _b in split_by_local_day(s.start, s.end)
    }

    # Each source's exposure interval, clipped to the window, computed once per source.
    exposures: dict[int, list[tuple[Stay, datetime, datetime]]] = defaultdict(list)
    for venue_id, venue_sources in by_venue.items():
        for source in venue_sources:
            exp_start, exp_end = case_exposure_interval(source, rules)
            exposures[venue_id].append((source, max(exp_start, w_start), min(exp_end, w_end)))

    zero = timedelta(0)
    daily: dict[tuple[int, int, date], timedelta] = defaultdict(timedelta)
    contacts: dict[int, list[Contact]] = defaultdict(list)
    same_day: set[int] = set()
    for other in other_stays:
        here = exposures.get(other.venue_id)
        if here is None or other.person_id == case_person_id:
            continue
        parts = split_by_local_day(other.start, other.end)
        for source, exp_start, exp_end in here:
            for day, part_start, part_end in parts:
                # The overlap of [part_start, part_end) and [exp_start, exp_end), inlined.
                shared = min(part_end, exp_end) - max(part_start, exp_start)
                if shared > zero:
                    daily[(other.person_id, other.venue_id, day)] += shared
                    contacts[other.person_id].append(
                        Contact(
                            source.visit_id,
                            other.visit_id,
                            other.venue_id,
                            day,
                            shared,
                            other.start,
                            other.end,
                            other.end_rule,
                            source.start,
                            source.end,
                            source.end_rule,
                        )
                    )
                elif (other.venue_id, day) in case_days:
                    same_day.add(other.person_id)

    best: dict[int, timedelta] = defaultdict(timedelta)
    total: dict[int, timedelta] = defaultdict(timedelta)
    for (person, _venue, _day), shared in daily.items():
        best[person] = max(best[person], shared)
        total[person] += shared

    # Everyone with shared time, and the household; the rest were only there the same day.
    strong = (set(contacts) | set(household)) - {case_person_id}
    result: list[Candidate] = []
    for person in strong:
        in_household = person in household
        if in_household or best[person] >= rules.min_f1_overlap:
            category = Category.F1_LIKELY
        elif best[person] > zero:
            category = Category.F1_CANDIDATE
        else:
            category = Category.SAME_VENUE_SAME_DAY
        result.append(
            Candidate(
                person_id=person,
                category=category,
                total_overlap=total[person],
                best_daily_overlap=best[person],
                household=in_household,
                rules_version=rules.version,
                contacts=sorted(contacts.get(person, []), key=lambda c: c.contact_start),
            )
        )
    rank = {Category.F1_LIKELY: 0, Category.F1_CANDIDATE: 1, Category.SAME_VENUE_SAME_DAY: 2}
    result.sort(key=lambda c: (rank[c.category], -c.best_daily_overlap, c.person_id))
    # Often the longest list (everyone there that day), so built without the lookups above;
    # no overlap, so they rank last, by person id, as the sort would put them.
    weak = (same_day | set(same_day_people)) - strong - {case_person_id}
    category, version = Category.SAME_VENUE_SAME_DAY, rules.version
    result += [Candidate(p, category, zero, zero, False, version) for p in sorted(weak)]
    return result


def infectious_window(
    *,
    onset: date | None,
    sample: date | None,
    isolation: date | None,
    confirmed: date,
    rules: ExposureRules,
) -> tuple[datetime, datetime]:
    """From 2 days before symptom onset (or, without symptoms, before the positive sample)
    until isolation (or confirmation, when isolation is not known), in local days."""
    anchor = onset or sample or confirmed
    start_local = datetime.combine(anchor, time(0), tzinfo=VN_TZ) - rules.infectious_before_onset
    end_day = isolation or confirmed
    end_local = datetime.combine(end_day + timedelta(days=1), time(0), tzinfo=VN_TZ)
    return start_local, end_local


@dataclass
class CommonSource:
    """A venue where several cases, not yet linked to each other, were while infectious."""

    venue_id: int
    case_ids: list[int]
    visits: list[tuple[int, Stay]]  # (case id, the case's stay there)
    closest_gap: timedelta  # how near in time two different cases' stays came


def common_sources(
    stays_by_case: Mapping[int, Sequence[Stay]],
    windows: dict[int, tuple[datetime, datetime]],
    *,
    linked: Collection[frozenset[int]] = (),
) -> list[CommonSource]:
    """Venues visited by two or more unlinked cases within their windows, most cases first,
    then the closest in time (a shared hour says more than a shared fortnight)."""
    by_venue: dict[int, list[tuple[int, Stay]]] = defaultdict(list)
    for case_id, stays in stays_by_case.items():
        w_start, w_end = windows[case_id]
        for s in stays:
            if s.end > w_start and s.start < w_end:
                by_venue[s.venue_id].append((case_id, s))
    found: list[CommonSource] = []
    for venue_id, visits in by_venue.items():
        cases = sorted({c for c, _s in visits})
        unlinked = [
            (a, b)
            for i, a in enumerate(cases)
            for b in cases[i + 1 :]
            if frozenset((a, b)) not in linked
        ]
        if not unlinked:
            continue
        pairs_in_play = {c for pair in unlinked for c in pair}
        gap = min(
            max(timedelta(0), max(sa.start, sb.start) - min(sa.end, sb.end))
            for ca, sa in visits
            for cb, sb in visits
            if ca != cb and frozenset((ca, cb)) not in linked
        )
        found.append(
            CommonSource(
                venue_id=venue_id,
                case_ids=sorted(pairs_in_play),
                visits=sorted(
                    ((c, s) for c, s in visits if c in pairs_in_play), key=lambda v: v[1].start
                ),
                closest_gap=gap,
            )
        )
    found.sort(key=lambda f: (-len(f.case_ids), f.closest_gap, f.venue_id))
    return found
