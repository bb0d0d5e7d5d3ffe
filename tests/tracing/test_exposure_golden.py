"""Golden cases for co-presence: each names the rule it pins down, in local (Vietnam) time."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from phongdich.core.clock import VN_TZ
from phongdich.tracing.exposure import (
    Category,
    EndRule,
    Stay,
    derive_end,
    find_candidates,
    infectious_window,
    overlap,
)
from phongdich.tracing.rules import ExposureRules, exposure_rules_on

RULES = ExposureRules(
    version="test-1",
    valid_from=date(2021, 1, 1),
    min_case_stay=timedelta(minutes=10),
    linger_after_case=timedelta(minutes=30),
    clock_skew=timedelta(0),
    min_f1_overlap=timedelta(minutes=15),
)
CASE = 1
WINDOW = (datetime(2021, 11, 1, tzinfo=VN_TZ), datetime(2021, 11, 30, tzinfo=VN_TZ))
VENUE, OTHER_VENUE = 10, 11


def at(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2021, 11, day, hh, mm, tzinfo=VN_TZ)


_ids = iter(range(1000, 100000))


def stay(
    person: int,
    start: datetime,
    end: datetime,
    venue: int = VENUE,
    rule: EndRule = EndRule.EXPLICIT,
) -> Stay:
    return Stay(next(_ids), person, venue, start, end, rule)


def candidates(case_stays: list[Stay], others: list[Stay], rules: ExposureRules = RULES, **kw):  # type: ignore[no-untyped-def]
    found = find_candidates(case_stays, others, rules, case_person_id=CASE, window=WINDOW, **kw)
    return {c.person_id: c for c in found}


def test_touching_intervals_do_not_overlap() -> None:
    assert overlap(at(15, 9), at(15, 10), at(15, 10), at(15, 11)) == timedelta(0)
    no_linger = ExposureRules(
        version="t",
        valid_from=date(2021, 1, 1),
        linger_after_case=timedelta(0),
        clock_skew=timedelta(0),
    )
    found = candidates(
        [stay(CASE, at(15, 9), at(15, 10))], [stay(2, at(15, 10), at(15, 11))], no_linger
    )
    assert found[2].category is Category.SAME_VENUE_SAME_DAY
    assert found[2].total_overlap == timedelta(0)


def test_partial_overlap_is_measured() -> None:
    found = candidates([stay(CASE, at(15, 9), at(15, 10))], [stay(2, at(15, 9, 50), at(15, 12))])
    # 09:50–10:30 (the case's hour plus 30 minutes of lingering air) = 40 minutes.
    assert found[2].best_daily_overlap == timedelta(minutes=40)
    assert found[2].category is Category.F1_LIKELY
    contact = found[2].contacts[0]
    assert (contact.overlap, contact.contact_end_rule) == (timedelta(minutes=40), EndRule.EXPLICIT)


def test_short_overlap_is_a_candidate_not_likely() -> None:
    found = candidates([stay(CASE, at(15, 9), at(15, 10))], [stay(2, at(15, 10, 20), at(15, 11))])
    assert found[2].best_daily_overlap == timedelta(minutes=10)
    assert found[2].category is Category.F1_CANDIDATE


def test_linger_window_counts_people_who_came_after_the_case_left() -> None:
    found = candidates(
        [stay(CASE, at(15, 9), at(15, 10))], [stay(2, at(15, 10, 5), at(15, 10, 45))]
    )
    assert found[2].best_daily_overlap == timedelta(minutes=25)  # 10:05–10:30
    found = candidates([stay(CASE, at(15, 9), at(15, 10))], [stay(3, at(15, 10, 30), at(15, 11))])
    assert found[3].category is Category.SAME_VENUE_SAME_DAY  # arrived exactly as the air cleared


def test_minimum_case_stay_drops_passers_by() -> None:
    found = candidates([stay(CASE, at(15, 9), at(15, 9, 9))], [stay(2, at(15, 9), at(15, 11))])
    assert found == {}
    found = candidates([stay(CASE, at(15, 9), at(15, 9, 10))], [stay(2, at(15, 9), at(15, 11))])
    assert found[2].category is Category.F1_LIKELY  # exactly 10 minutes qualifies


def test_visit_across_midnight_is_summed_per_local_day() -> None:
    case = [stay(CASE, at(15, 23, 0), at(16, 1, 0))]
    found = candidates(case, [stay(2, at(15, 23, 50), at(16, 0, 10))])
    # 23:50–00:00 on the 15th (10 min) and 00:00–00:10 on the 16th (10 min): neither day
    # reaches 15 minutes, so the person is a candidate, not likely, though 20 minutes in all.
    assert found[2].total_overlap == timedelta(minutes=20)
    assert found[2].best_daily_overlap == timedelta(minutes=10)
    assert found[2].category is Category.F1_CANDIDATE
    assert {c.day for c in found[2].contacts} == {date(2021, 11, 15), date(2021, 11, 16)}


def test_visit_without_check_out_closed_by_next_check_in() -> None:
    end, rule = derive_end(
        at(15, 9),
        checked_out_at=None,
        next_checkin_at=at(15, 9, 20),
        default_stay=timedelta(hours=2),
    )
    assert (end, rule) == (at(15, 9, 20), EndRule.NEXT_CHECKIN)


def test_visit_without_check_out_closed_by_default_stay() -> None:
    end, rule = derive_end(
        at(15, 9),
        checked_out_at=None,
        next_checkin_at=at(15, 15),
        default_stay=timedelta(minutes=45),
    )
    assert (end, rule) == (at(15, 9, 45), EndRule.DEFAULT_STAY)


def test_visit_without_check_out_capped_at_local_midnight() -> None:
    end, rule = derive_end(
        at(15, 22), checked_out_at=None, next_checkin_at=None, default_stay=timedelta(hours=8)
    )
    assert (end, rule) == (at(16, 0), EndRule.END_OF_DAY)
    # Midnight is local: 22:00 in Vietnam is 15:00 UTC, and the cap is 17:00 UTC, not 00:00 UTC.
    assert end.astimezone(VN_TZ).hour == 0


def test_explicit_check_out_wins_even_after_midnight() -> None:
    end, rule = derive_end(
        at(15, 22),
        checked_out_at=at(16, 1),
        next_checkin_at=at(15, 23),
        default_stay=timedelta(hours=1),
    )
    assert (end, rule) == (at(16, 1), EndRule.EXPLICIT)


def test_person_checked_in_twice_at_the_same_venue_sums_the_day() -> None:
    case = [stay(CASE, at(15, 9), at(15, 11))]
    others = [stay(2, at(15, 9), at(15, 9, 8)), stay(2, at(15, 10), at(15, 10, 8))]
    found = candidates(case, others)
    assert found[2].best_daily_overlap == timedelta(minutes=16)
    assert found[2].category is Category.F1_LIKELY
    assert len(found[2].contacts) == 2


def test_clock_skew_buffer_widens_the_case_stay() -> None:
    skewed = ExposureRules(
        version="t",
        valid_from=date(2021, 1, 1),
        linger_after_case=timedelta(0),
        clock_skew=timedelta(minutes=5),
    )
    # The contact left 3 minutes before the case arrived by the clocks: within the skew buffer.
    found = candidates(
        [stay(CASE, at(15, 9), at(15, 10))], [stay(2, at(15, 8), at(15, 8, 57))], skewed
    )
    assert found[2].best_daily_overlap == timedelta(minutes=2)
    found = candidates(
        [stay(CASE, at(15, 9), at(15, 10))],
        [stay(2, at(15, 8), at(15, 8, 57))],
        ExposureRules(
            version="t",
            valid_from=date(2021, 1, 1),
            linger_after_case=timedelta(0),
            clock_skew=timedelta(0),
        ),
    )
    assert found[2].category is Category.SAME_VENUE_SAME_DAY


def test_other_venues_the_case_itself_and_the_window_are_respected() -> None:
    case = [stay(CASE, at(15, 9), at(15, 10))]
    found = candidates(
        case, [stay(2, at(15, 9), at(15, 10), venue=OTHER_VENUE), stay(CASE, at(15, 9), at(15, 10))]
    )
    assert found == {}
    early = find_candidates(
        case,
        [stay(2, at(15, 9), at(15, 10))],
        RULES,
        case_person_id=CASE,
        window=(at(15, 9, 30), at(20, 0)),
    )
    # The contact left at 10:00; the window opens at 09:30: 30 minutes count.
    assert early[0].best_daily_overlap == timedelta(minutes=30)


def test_household_members_are_f1_likely_without_check_ins() -> None:
    found = candidates([stay(CASE, at(15, 9), at(15, 10))], [], household=frozenset({CASE, 7}))
    assert found[7].category is Category.F1_LIKELY and found[7].household
    assert CASE not in found


def test_infectious_window_starts_two_days_before_onset_or_sample() -> None:
    rules = exposure_rules_on(date(2021, 11, 20))
    start, end = infectious_window(
        onset=date(2021, 11, 10),
        sample=date(2021, 11, 12),
        isolation=date(2021, 11, 13),
        confirmed=date(2021, 11, 13),
        rules=rules,
    )
    assert (start, end) == (
        datetime(2021, 11, 8, tzinfo=VN_TZ),
        datetime(2021, 11, 14, tzinfo=VN_TZ),
    )
    start, _ = infectious_window(
        onset=None,
        sample=date(2021, 11, 12),
        isolation=None,
        confirmed=date(2021, 11, 13),
        rules=rules,
    )
    assert start == datetime(2021, 11, 10, tzinfo=VN_TZ)


def test_rule_versions_are_dated() -> None:
    assert (
        exposure_rules_on(date(2021, 12, 28)).version
        != exposure_rules_on(date(2021, 12, 29)).version
    )


def test_common_sources_rank_unlinked_cases_sharing_a_venue() -> None:
    from phongdich.tracing.exposure import common_sources

    market, school, cafe = 20, 21, 22
    stays = {
        101: [
            stay(101, at(10, 8), at(10, 9), venue=market),
            stay(101, at(11, 8), at(11, 9), venue=cafe),
        ],
        102: [
            stay(102, at(10, 8, 30), at(10, 9, 30), venue=market),
            stay(102, at(12, 8), at(12, 9), venue=cafe),
        ],
        103: [
            stay(103, at(13, 8), at(13, 9), venue=market),
            stay(103, at(13, 8), at(13, 9), venue=school),
        ],
    }
    windows = dict.fromkeys(stays, WINDOW)
    found = common_sources(stays, windows)
    assert [f.venue_id for f in found] == [market, cafe]  # three cases beat two; the school has one
    assert found[0].case_ids == [101, 102, 103] and found[0].closest_gap == timedelta(0)
    assert found[1].closest_gap == timedelta(hours=23)
    # Cases already linked to each other are no longer a mystery at the café.
    found = common_sources(stays, windows, linked={frozenset((101, 102))})
    assert [f.venue_id for f in found] == [market]
    assert found[0].case_ids == [101, 102, 103]
    # Outside a case's window its visits do not count.
    narrow = {**windows, 103: (at(14, 0), at(20, 0))}
    assert [f.case_ids for f in common_sources(stays, narrow)] == [[101, 102], [101, 102]]
