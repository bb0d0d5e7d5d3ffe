"""Dated, versioned rule sets for exposure estimates and quarantine.

Rules changed several times in 2021, so every derived result stores the version of the rules it
used; old results stay explainable after the rules change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta


@dataclass(frozen=True)
class ExposureRules:
    """Parameters for turning check-ins into exposure candidates."""

    version: str
    valid_from: date
    # Case visits shorter than this are dropped: a passer-by is not a source.
    min_case_stay: timedelta = timedelta(minutes=10)
    # The air stays infectious for a while after the case leaves.
    linger_after_case: timedelta = timedelta(minutes=30)
    # Phones and scanners disagree about the time; widen the case's stay by this on both sides.
    clock_skew: timedelta = timedelta(minutes=2)
    # Used when neither a check-out nor the venue type gives a stay.
    fallback_stay: timedelta = timedelta(minutes=60)
    # Summed overlap per person per venue per local day that makes an F1 candidate likely.
    min_f1_overlap: timedelta = timedelta(minutes=15)
    # Infectious from this long before symptom onset (or the positive sample without symptoms).
    infectious_before_onset: timedelta = timedelta(days=2)
    default_stay_by_type: dict[str, timedelta] = field(default_factory=dict)
    # The longest a visit can last: bounds the look-back for visits that began before the case
    # arrived (a visit without a check-out ends by local midnight; an explicit one may not).
    max_stay: timedelta = timedelta(hours=24)

    def default_stay(self, type_code: str | None, recorded_minutes: int | None) -> timedelta:
        """The stay assumed for a visit without a check-out: this rule set's value for the
        venue type if it names one, else the type's default recorded with the visit."""
        if type_code is not None and type_code in self.default_stay_by_type:
            return self.default_stay_by_type[type_code]
        if recorded_minutes:
            return timedelta(minutes=recorded_minutes)
        return self.fallback_stay


@dataclass(frozen=True)
class QuarantineRule:
    """How long a confirmed F1 is quarantined, and where (dated: it changed in 2021)."""

    version: str
    valid_from: date
    days: int
    days_if_fully_vaccinated: int | None
    place: str


EXPOSURE_RULES: tuple[ExposureRules, ...] = (
    ExposureRules(version="2021-10-exposure-1", valid_from=date(2021, 10, 1)),
    # From 29/12/2021 MoH counts 15 minutes or more within 2 m as close contact (domain.md).
    ExposureRules(version="2021-12-29-exposure-2", valid_from=date(2021, 12, 29)),
)

# domain.md: 14 days in a facility, later 7 days at home for the fully vaccinated or recently
# recovered. The change is dated here to Resolution 128's new-normal guidance (11/10/2021);
# a province adjusts these dates and lengths to its own decisions.
QUARANTINE_RULES: tuple[QuarantineRule, ...] = (
    QuarantineRule("2021-07-quarantine-14", date(2021, 7, 1), 14, None, "facility"),
    QuarantineRule("2021-10-11-quarantine-7-vaccinated", date(2021, 10, 11), 14, 7, "home"),
)


# F2 (a contact of an F1) stayed home and was monitored until the F1 was released.
F2_MONITORING_VERSION = "2021-f2-home-monitoring-until-f1-release"


def _in_force[R: (ExposureRules, QuarantineRule)](rules: Sequence[R], on: date) -> R:
    applicable = [r for r in rules if r.valid_from <= on]
    if not applicable:
        return min(rules, key=lambda r: r.valid_from)
    return max(applicable, key=lambda r: r.valid_from)


def exposure_rules_on(on: date) -> ExposureRules:
    """The exposure rules in force on a day (the earliest set before any was in force)."""
    return _in_force(EXPOSURE_RULES, on)


def quarantine_rule_on(on: date) -> QuarantineRule:
    return _in_force(QUARANTINE_RULES, on)
