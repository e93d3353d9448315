"""The reading window: the 20th to the 23rd of the month by default, in the utility's local calendar,
and windows a utility sets that run over a month's end or past a short month's last day."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction

from inspections.readings.rules import ReadingWindow, reading_rules

BEIJING_OFFSET_H = 8


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_the_default_window_is_the_20th_to_the_23rd_in_local_time() -> None:
    start, end = reading_rules().window.for_period("2026-11")

    # Local midnight of the 20th to local midnight after the 23rd, Beijing time (UTC+8).
    assert start == utc(2026, 11, 19, 24 - BEIJING_OFFSET_H)
    assert end == utc(2026, 11, 23, 24 - BEIJING_OFFSET_H)


def test_a_window_ending_before_it_starts_runs_into_the_next_month_and_year() -> None:
    window = ReadingWindow(first_day=28, last_day=3, timezone="Asia/Shanghai")

    start, end = window.for_period("2026-12")

    assert start == utc(2026, 12, 27, 16)
    assert end == utc(2027, 1, 3, 16)  # midnight after 3 January, local


def test_a_day_past_the_end_of_a_short_month_is_its_last_day() -> None:
    window = ReadingWindow(first_day=30, last_day=31, timezone="UTC")

    assert window.for_period("2027-02") == (utc(2027, 2, 28), utc(2027, 3, 1))
    assert window.for_period("2028-02") == (utc(2028, 2, 29), utc(2028, 3, 1))  # leap year
    assert window.for_period("2026-04") == (utc(2026, 4, 30), utc(2026, 5, 1))


def test_the_shipped_thresholds_are_a_half_for_households_and_a_third_for_industry_and_commerce() -> None:
    rules = reading_rules()

    assert rules.max_change_for("residential") == Fraction(1, 2)
    assert rules.max_change_for("industrial") == Fraction(1, 3)
    assert rules.max_change_for("commercial") == Fraction(1, 3)
    assert rules.max_change_for("a category added later") == Fraction(1, 2)
