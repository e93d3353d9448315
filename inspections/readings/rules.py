"""The meter-reading rules, read from `data/readings.json`: the reading window, the consumption-change
thresholds per customer category, the reason and anomaly codes, and who may never be estimated.

The utility decides these; this module only reads them and answers questions about them. Fractions
stay `Fraction`s so that a change of exactly 1/2 is never taken for one just above it.
"""

from __future__ import annotations

import calendar
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from inspections.policy import local_timezone

RULES_PATH = Path(__file__).resolve().parent / "data" / "readings.json"
# A billing month, YYYY-MM, of the years 1900-2999: the calendar arithmetic of a reading window
# (a month's length, the month after) fails for year 0, and no utility bills a year beyond these.
PERIOD_PATTERN = re.compile(r"^((?:19|2\d)\d{2})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class ReadingWindow:
    """The days of the month meters are read on, in the utility's local calendar."""

    first_day: int
    last_day: int
    timezone: str

    def for_period(self, period: str) -> tuple[datetime, datetime]:
        """(start, end) of the window of `period` ("2026-11"): from local midnight of the first day to
        local midnight after the last day, as UTC instants. A last day before the first day runs into the next month;
        a day beyond a month's length is its last day (a window ending on the 31st ends on 28 February)."""
        year, month = parse_period(period)
        start_day = date(year, month, min(self.first_day, calendar.monthrange(year, month)[1]))
        if self.last_day < self.first_day:
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        end_day = date(year, month, min(self.last_day, calendar.monthrange(year, month)[1]))
        zone = ZoneInfo(self.timezone)
        return (datetime.combine(start_day, time(), zone).astimezone(UTC),
                datetime.combine(end_day + timedelta(days=1), time(), zone).astimezone(UTC))


    def period_of(self, moment: datetime) -> str:
        """The month `moment` falls in, in the utility's local calendar ("2026-11")."""
        return moment.astimezone(ZoneInfo(self.timezone)).strftime("%Y-%m")


@dataclass(frozen=True)
class AnomalyCode:
    code: str
    label: str
    # False: the meter could not be read (lost, burnt, locked door): no value is recorded.
    readable: bool
    allows_lower_value: bool
    follow_up_task_type: str | None
    priority: int
    due_hours: int
    event_type: str | None
    reread: bool


@dataclass(frozen=True)
class ReadingRules:
    window: ReadingWindow
    late_reread_days: int
    max_change: dict[str, Fraction]
    default_category: str
    reason_codes: dict[str, dict[str, Any]]
    anomaly_codes: dict[str, AnomalyCode]
    no_estimate_categories: frozenset[str]
    key_accounts_never_estimated: bool

    def max_change_for(self, category: str) -> Fraction:
        return self.max_change.get(category, self.max_change[self.default_category])

    def may_be_estimated(self, *, category: str, key_account: bool) -> bool:
        if key_account and self.key_accounts_never_estimated:
            return False
        return category not in self.no_estimate_categories

    def restarts_register(self, reason_code: str | None) -> bool:
        return bool(reason_code and self.reason_codes.get(reason_code, {}).get("restarts_register"))


def parse_period(period: str) -> tuple[int, int]:
    match = PERIOD_PATTERN.match(period)
    if match is None:
        raise ValueError(f"period {period!r} is not YYYY-MM")
    return int(match.group(1)), int(match.group(2))


def _anomaly(code: str, entry: dict[str, Any]) -> AnomalyCode:
    return AnomalyCode(code=code, label=entry["en"], readable=entry.get("readable", True),
                       allows_lower_value=entry.get("allows_lower_value", False),
                       follow_up_task_type=entry.get("follow_up"), priority=int(entry.get("priority", 3)),
                       due_hours=int(entry.get("due_hours", 24)),
                       event_type=entry.get("event"), reread=entry.get("reread", False))


def parse_rules(document: dict[str, Any]) -> ReadingRules:
    window, change, no_estimate = document["window"], document["consumption_change"], document["no_estimate"]
    return ReadingRules(
        window=ReadingWindow(first_day=int(window["first_day"]), last_day=int(window["last_day"]),
                             timezone=local_timezone().key),
        late_reread_days=int(document["late_reread_days"]["value"]),
        max_change={category: Fraction(value) for category, value in change["max_change_by_category"].items()},
        default_category=change["default_category"],
        reason_codes=document["reason_codes"]["codes"],
        anomaly_codes={code: _anomaly(code, entry) for code, entry in document["anomaly_codes"]["codes"].items()},
        no_estimate_categories=frozenset(no_estimate["categories"]),
        key_accounts_never_estimated=bool(no_estimate["key_accounts"]))


@lru_cache(maxsize=1)
def _document() -> dict[str, Any]:
    return dict(json.loads(RULES_PATH.read_text(encoding="utf-8")))


def reading_rules() -> ReadingRules:
    return _parsed()


@lru_cache(maxsize=1)
def _parsed() -> ReadingRules:
    return parse_rules(_document())


def published_codes() -> dict[str, Any]:
    """What a reader's device offers: the reason and anomaly codes with their labels, the window and
    the thresholds, each with its source (the data file as shipped, minus nothing)."""
    document = _document()
    published = {name: document[name] for name in ("window", "consumption_change", "reason_codes", "anomaly_codes",
                                                   "no_estimate")}
    return {**published, "window": {**published["window"], "timezone": local_timezone().key}}
