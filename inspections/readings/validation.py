"""A reading checked against the rules and the customer's previous reading (DOMAIN.md §5). Pure:
no database; `service.submit_reading` gathers the facts and stores the outcome.

Choices where the standard is silent:
- An anomaly code counts as the reason for a large change: the anomaly is what explains it, and its
  follow-up task is where it is dealt with.
- A value below the previous one is refused unless the meter runs backwards (anomaly) or was replaced
  (reason `meter_replaced`, whose register restarted). A replaced meter's consumption is not computed
  (the old meter's final reading is not known here) and next month's change is then not compared.
- With no consumption last period (a first or second reading) there is nothing to compare; with zero
  consumption last period, any consumption now is a change above every threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from core.errors import InvalidInput
from inspections.readings.rules import ReadingRules, parse_period
from inspections.readings.specs import ReadingSpec


@dataclass(frozen=True)
class PreviousReading:
    id: int
    value: Decimal
    consumption: Decimal | None


@dataclass(frozen=True)
class Assessment:
    status: str  # valid | not_read
    consumption: Decimal | None


def _refuse(message: str, field: str, **details: str) -> InvalidInput:
    return InvalidInput(message, errors=[{"field": field, "message": message, **details}])


def _check_codes(spec: ReadingSpec, rules: ReadingRules) -> None:
    try:
        parse_period(spec.period)
    except ValueError as exc:
        raise _refuse(str(exc), "period") from exc
    if spec.reason_code is not None and spec.reason_code not in rules.reason_codes:
        raise _refuse(f"Unknown reason code {spec.reason_code!r}; known: {', '.join(sorted(rules.reason_codes))}.",
                      "reason_code")
    if spec.anomaly_code is not None and spec.anomaly_code not in rules.anomaly_codes:
        raise _refuse(f"Unknown anomaly code {spec.anomaly_code!r}; known: {', '.join(sorted(rules.anomaly_codes))}.",
                      "anomaly_code")
    if spec.reason_code and rules.reason_codes[spec.reason_code].get("needs_note") and not spec.note.strip():
        raise _refuse(f"Reason code {spec.reason_code!r} needs a note saying what the reason is.", "note")


def _change_exceeds(consumption: Decimal, last: Decimal, limit: Fraction) -> bool:
    if last == 0:
        return consumption != 0
    return Fraction(abs(consumption - last)) / Fraction(abs(last)) > limit


def assess(*, spec: ReadingSpec, rules: ReadingRules, category: str, key_account: bool,
           previous: PreviousReading | None) -> Assessment:
    """The reading's status and consumption, or InvalidInput naming the rule it breaks."""
    _check_codes(spec, rules)
    anomaly = rules.anomaly_codes.get(spec.anomaly_code or "")
    if anomaly is not None and not anomaly.readable:
        if spec.value is not None or spec.estimated:
            raise _refuse(f"{spec.anomaly_code} means the meter was not read: send no value and no estimate.",
                          "value")
        return Assessment(status="not_read", consumption=None)
    if spec.value is None:
        raise _refuse("A reading needs its value (or an anomaly code saying why the meter could not be read).",
                      "value")
    if spec.value < 0:
        raise _refuse("A meter value cannot be negative.", "value")
    if spec.estimated and not rules.may_be_estimated(category=category, key_account=key_account):
        who = "key account" if key_account and category not in rules.no_estimate_categories else f"{category} customer"
        raise _refuse(f"This customer ({who}) is in a no-estimate class: the meter must actually be read "
                      "(rule no_estimate, DOMAIN.md §5).", "estimated", rule="no_estimate")
    if previous is None:
        return Assessment(status="valid", consumption=None)
    restarted = rules.restarts_register(spec.reason_code)
    if spec.value < previous.value and not restarted and not (anomaly and anomaly.allows_lower_value):
        raise _refuse(f"The value {spec.value} is lower than the previous reading {previous.value}: record anomaly "
                      "running_backwards or reason meter_replaced if that is what happened (rule value_below_previous).",
                      "value", rule="value_below_previous")
    if restarted:
        return Assessment(status="valid", consumption=None)
    consumption = spec.value - previous.value
    limit = rules.max_change_for(category)
    if (previous.consumption is not None and not spec.reason_code and anomaly is None
            and _change_exceeds(consumption, previous.consumption, limit)):
        raise _refuse(f"Consumption {consumption} differs from last period's {previous.consumption} by more than "
                      f"{limit} (rule consumption_change for {category} customers): record a reason code "
                      f"({', '.join(sorted(rules.reason_codes))}).", "reason_code", rule="consumption_change",
                      threshold=str(limit))
    return Assessment(status="valid", consumption=consumption)
