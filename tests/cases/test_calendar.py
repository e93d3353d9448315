"""Specification of the working-day calendar behind connection-request time limits (DOMAIN.md §4).

Every date below was checked by hand against a wall calendar and the State Council notices
(国办发明电〔2024〕12号 for 2025, 国办发明电〔2025〕7号 for 2026). Deadlines are the end of the
Nth working day after the submission day, local time Asia/Shanghai (UTC+8), returned in UTC, so
"end of 5 March local" is 2026-03-05T16:00:00Z.

Pure unit tests: no database, no services.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cases.calendar import (
    CalendarError,
    Remaining,
    WorkingCalendar,
    default_calendar_path,
    load_calendar,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(day: str, clock: str = "10:00") -> datetime:
    """A moment in Beijing time, e.g. local("2026-03-02", "10:00")."""
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=SHANGHAI)


def utc(moment: str) -> datetime:
    return datetime.fromisoformat(moment).replace(tzinfo=UTC)


def end_of_local_day(day: str) -> datetime:
    """Local midnight after `day`, in UTC: the form every deadline takes."""
    return utc(f"{day}T16:00:00")


@pytest.fixture(scope="module")
def cn() -> WorkingCalendar:
    return load_calendar(default_calendar_path("CN"))


# --- Deadlines -------------------------------------------------------------------------------

DEADLINES = [
    # (why, submitted, working days, last day of the limit)
    ("normal week: Mon + 3 = Thu", local("2026-03-02"), 3, "2026-03-05"),
    ("across a weekend: Thu + 3 = Fri, Mon, Tue", local("2026-03-05"), 3, "2026-03-10"),
    ("Friday evening + 1 = Monday", local("2026-03-06", "18:00"), 1, "2026-03-09"),
    ("day 0 is the local day: 17:30 UTC Mon is 01:30 Tue in Beijing, + 1 = Wed",
     utc("2026-03-02T17:30:00"), 1, "2026-03-04"),
    ("make-up Sunday 20 Sep counts: Fri 18 Sep + 1 = Sun 20 Sep", local("2026-09-18"), 1, "2026-09-20"),
    ("golden week 1-7 Oct off, make-up Sat 10 Oct counts: Wed 30 Sep + 3 = Thu 8, Fri 9, Sat 10",
     local("2026-09-30"), 3, "2026-10-10"),
    ("Mid-Autumn Fri 25 Sep and golden week: Thu 24 Sep + 5 = 28, 29, 30 Sep, 8, 9 Oct",
     local("2026-09-24"), 5, "2026-10-09"),
    ("Spring Festival 15-23 Feb off, make-up Sat 14 Feb counts: Fri 13 + 3 = Sat 14, Tue 24, Wed 25",
     local("2026-02-13"), 3, "2026-02-25"),
    ("second Spring Festival make-up Sat 28 Feb counts: Thu 26 + 2 = Fri 27, Sat 28",
     local("2026-02-26"), 2, "2026-02-28"),
    ("New Year 1-3 Jan off, make-up Sun 4 Jan counts: Wed 31 Dec 2025 + 2 = Sun 4, Mon 5",
     local("2025-12-31"), 2, "2026-01-05"),
    ("2025 National Day 1-8 Oct off, make-up Sat 11 Oct: Tue 30 Sep 2025 + 4 = Thu 9, Fri 10, Sat 11, Mon 13",
     local("2025-09-30"), 4, "2025-10-13"),
    ("submitted on a Sunday: the next working days count, Sun + 1 = Mon", local("2026-03-08", "15:00"), 1,
     "2026-03-09"),
    ("submitted on a Spring Festival weekday off: Wed 18 Feb + 1 = Tue 24 Feb", local("2026-02-18"), 1,
     "2026-02-24"),
    ("submitted on golden-week Saturday 3 Oct: + 3 = Thu 8, Fri 9, Sat 10", local("2026-10-03"), 3,
     "2026-10-10"),
    ("submitted on golden-week Monday 5 Oct: same deadline as on 3 Oct", local("2026-10-05"), 3, "2026-10-10"),
    ("0 days ends with the submission day", local("2026-03-02"), 0, "2026-03-02"),
    ("0 days on a holiday still ends with that day", local("2026-10-03"), 0, "2026-10-03"),
]


@pytest.mark.parametrize(("submitted", "days", "last_day"), [case[1:] for case in DEADLINES],
                         ids=[case[0] for case in DEADLINES])
def test_deadline_is_the_end_of_the_nth_working_day_after_submission(
    cn: WorkingCalendar, submitted: datetime, days: int, last_day: str
) -> None:
    deadline = cn.add_working_days(submitted, days)

    assert deadline == end_of_local_day(last_day)
    assert deadline.tzinfo == UTC


def test_the_worked_example_of_the_module_docstring(cn: WorkingCalendar) -> None:
    deadline = cn.add_working_days(local("2026-03-02", "10:00"), 3)

    assert deadline.isoformat() == "2026-03-05T16:00:00+00:00"


def test_a_naive_submission_time_is_refused(cn: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        cn.add_working_days(datetime(2026, 3, 2, 10, 0), 3)


def test_a_negative_time_limit_is_refused(cn: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="negative"):
        cn.add_working_days(local("2026-03-02"), -1)


# --- Which days are working days ---------------------------------------------------------------

# 国办发明电〔2025〕7号: (holiday, first day off, last day off, make-up working days)
NOTICE_2026 = [
    ("元旦", "2026-01-01", "2026-01-03", ["2026-01-04"]),
    ("春节", "2026-02-15", "2026-02-23", ["2026-02-14", "2026-02-28"]),
    ("清明节", "2026-04-04", "2026-04-06", []),
    ("劳动节", "2026-05-01", "2026-05-05", ["2026-05-09"]),
    ("端午节", "2026-06-19", "2026-06-21", []),
    ("中秋节", "2026-09-25", "2026-09-27", []),
    ("国庆节", "2026-10-01", "2026-10-07", ["2026-09-20", "2026-10-10"]),
]


@pytest.mark.parametrize(("holiday", "first", "last", "makeup"), NOTICE_2026, ids=[row[0] for row in NOTICE_2026])
def test_the_2026_schedule_is_the_one_the_state_council_published(
    cn: WorkingCalendar, holiday: str, first: str, last: str, makeup: list[str]
) -> None:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    days_off = [start + timedelta(days=offset) for offset in range((end - start).days + 1)]

    assert [cn.is_working_day(day) for day in days_off] == [False] * len(days_off)
    assert {cn.holidays[day] for day in days_off} == {holiday}
    assert all(cn.is_working_day(date.fromisoformat(day)) for day in makeup)


def test_the_2026_file_lists_no_other_days(cn: WorkingCalendar) -> None:
    assert len([day for day in cn.holidays if day.year == 2026]) == 33  # 3 + 9 + 3 + 5 + 3 + 3 + 7
    assert sorted(day.isoformat() for day in cn.makeup_working_days if day.year == 2026) == [
        "2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10",
    ]


@pytest.mark.parametrize("year", [2025, 2026])
def test_each_covered_year_has_248_working_days(cn: WorkingCalendar, year: int) -> None:
    # Both years: 261 weekdays; 2025 loses 18 to holidays and gains 5 make-up days,
    # 2026 loses 19 and gains 6.
    assert cn.working_days_between(date(year - 1, 12, 31), date(year, 12, 31)) == 248


def test_ordinary_days_follow_the_week(cn: WorkingCalendar) -> None:
    assert cn.is_working_day(date(2026, 3, 6)) is True  # Friday
    assert cn.is_working_day(date(2026, 3, 7)) is False  # Saturday
    assert cn.is_working_day(date(2026, 10, 11)) is False  # Sunday right after the make-up Saturday


def test_working_days_between_counts_the_end_day_but_not_the_start_day(cn: WorkingCalendar) -> None:
    assert cn.working_days_between(date(2026, 3, 2), date(2026, 3, 5)) == 3
    assert cn.working_days_between(date(2026, 3, 2), date(2026, 3, 2)) == 0
    assert cn.working_days_between(date(2026, 3, 5), date(2026, 3, 2)) == -3
    assert cn.working_days_between(date(2026, 9, 30), date(2026, 10, 10)) == 3


# --- Remaining time ----------------------------------------------------------------------------

# A site survey submitted Monday 2 March 10:00 with 3 working days is due by the end of Thursday 5 March.
SURVEY_DUE = end_of_local_day("2026-03-05")

REMAINING = [
    # (why, now, expected)
    ("two days before: Wed and Thu are left", local("2026-03-03", "09:00"),
     Remaining(working_days=2, overdue=False, seconds=(2 * 24 + 15) * 3600, calendar_covered=True)),
    ("on the deadline day: 0 working days, the rest of the day", local("2026-03-05", "09:00"),
     Remaining(working_days=0, overdue=False, seconds=15 * 3600, calendar_covered=True)),
    ("last second of the deadline day", local("2026-03-05", "23:59:59"),
     Remaining(working_days=0, overdue=False, seconds=1.0, calendar_covered=True)),
    ("exactly at the deadline: overdue, Friday is the first day late", local("2026-03-06", "00:00"),
     Remaining(working_days=-1, overdue=True, seconds=0.0, calendar_covered=True)),
    ("Friday morning: one working day overdue", local("2026-03-06", "09:00"),
     Remaining(working_days=-1, overdue=True, seconds=-9 * 3600, calendar_covered=True)),
    ("next Monday: Friday and Monday overdue", local("2026-03-09", "09:00"),
     Remaining(working_days=-2, overdue=True, seconds=-(3 * 24 + 9) * 3600, calendar_covered=True)),
]


@pytest.mark.parametrize(("now", "expected"), [case[1:] for case in REMAINING], ids=[case[0] for case in REMAINING])
def test_remaining_time_before_on_and_after_the_deadline(
    cn: WorkingCalendar, now: datetime, expected: Remaining
) -> None:
    assert cn.add_working_days(local("2026-03-02"), 3) == SURVEY_DUE
    assert cn.remaining(now=now, deadline=SURVEY_DUE) == expected


def test_overdue_over_a_weekend_is_overdue_by_zero_working_days(cn: WorkingCalendar) -> None:
    due_friday = cn.add_working_days(local("2026-03-05"), 1)

    result = cn.remaining(now=local("2026-03-07", "10:00"), deadline=due_friday)

    assert (result.overdue, result.working_days) == (True, 0)


def test_remaining_skips_the_golden_week(cn: WorkingCalendar) -> None:
    result = cn.remaining(now=local("2026-09-30"), deadline=end_of_local_day("2026-10-10"))

    assert result.working_days == 3  # Thu 8, Fri 9, Sat 10 October


def test_remaining_refuses_naive_datetimes(cn: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="now must be a timezone-aware"):
        cn.remaining(now=datetime(2026, 3, 3, 9, 0), deadline=SURVEY_DUE)
    with pytest.raises(ValueError, match="deadline must be a timezone-aware"):
        cn.remaining(now=local("2026-03-03"), deadline=datetime(2026, 3, 6, 0, 0))


# --- Years the file does not cover --------------------------------------------------------------


def minimal_document() -> dict[str, Any]:
    """A valid calendar covering 2026 only, with one holiday and one make-up day."""
    return {
        "code": "CN",
        "name": "test calendar",
        "timezone": "Asia/Shanghai",
        "weekend": [5, 6],
        "years": {
            "2026": {
                "source": "国办发明电〔2025〕7号",
                "holidays": [{"date": "2026-10-01", "name": "国庆节"}],
                "makeup_working_days": [{"date": "2026-10-10", "name": "国庆节调休上班"}],
            }
        },
    }


def write_calendar(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "calendar.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def test_an_uncovered_year_falls_back_to_weekends_and_says_so(tmp_path: Path) -> None:
    calendar = load_calendar(write_calendar(tmp_path, minimal_document()))

    assert calendar.covers(date(2026, 12, 31)) is True
    assert calendar.covers(date(2027, 1, 1)) is False
    assert calendar.is_working_day(date(2027, 1, 1)) is True  # a Friday: no schedule loaded, so it counts
    assert calendar.is_working_day(date(2027, 1, 2)) is False  # a Saturday
    # Wed 30 Dec 2026 + 3 = Thu 31 Dec, Fri 1 Jan 2027, Mon 4 Jan 2027
    deadline = calendar.add_working_days(local("2026-12-30"), 3)
    assert deadline == end_of_local_day("2027-01-04")
    late_result = calendar.remaining(now=local("2026-12-30"), deadline=deadline)
    assert (late_result.working_days, late_result.calendar_covered) == (3, False)
    assert calendar.remaining(now=local("2026-12-01"), deadline=end_of_local_day("2026-12-31")).calendar_covered


def test_an_unverified_year_is_used_but_flagged(tmp_path: Path) -> None:
    document = minimal_document()
    document["years"]["2026"]["verified"] = False

    calendar = load_calendar(write_calendar(tmp_path, document))

    assert (calendar.covered_years, calendar.unverified_years) == (frozenset({2026}), frozenset({2026}))
    assert calendar.is_working_day(date(2026, 10, 1)) is False


# --- The file -----------------------------------------------------------------------------------


def test_the_shipped_calendar_is_beijing_time_with_saturday_and_sunday_off(cn: WorkingCalendar) -> None:
    assert default_calendar_path().name == "cn.json"
    assert (cn.code, cn.timezone, cn.weekend) == ("CN", SHANGHAI, frozenset({5, 6}))
    assert {2025, 2026} <= cn.covered_years
    assert cn.unverified_years == frozenset()


def _set(path: str, value: Any) -> Any:
    """A change to minimal_document(): set the value at a dotted path (list indexes are numbers)."""

    def change(document: dict[str, Any]) -> None:
        *parents, leaf = path.split(".")
        target: Any = document
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if isinstance(target, list):
            target[int(leaf)] = value
        else:
            target[leaf] = value

    return change


def _add(path: str, entry: dict[str, str]) -> Any:
    """A change to minimal_document(): append `entry` to a list of the 2026 year."""

    def change(document: dict[str, Any]) -> None:
        document["years"]["2026"][path].append(entry)

    return change


def _drop(key: str) -> Any:
    def change(document: dict[str, Any]) -> None:
        del document[key]

    return change


MALFORMED = [
    # (why, change, message fragment)
    ("unknown top-level key", _set("weekends", [5, 6]), "unknown key(s) weekends"),
    ("missing top-level key", _drop("timezone"), "missing key(s) timezone"),
    ("misspelt list of make-up days", _set("years.2026.makeup_workdays", []), "unknown key(s) makeup_workdays"),
    ("unknown key in an entry", _set("years.2026.holidays.0", {"date": "2026-10-01", "name": "国庆节", "x": 1}),
     "unknown key(s) x"),
    ("date listed twice", _add("holidays", {"date": "2026-10-01", "name": "国庆节"}), "2026-10-01 is listed twice"),
    ("date both holiday and make-up", _add("holidays", {"date": "2026-10-10", "name": "国庆节"}),
     "2026-10-10 is listed both as a holiday and as a make-up working day"),
    ("date outside its year key", _add("holidays", {"date": "2025-10-01", "name": "国庆节"}),
     "2025-10-01 is not in 2026"),
    ("make-up day on a weekday", _add("makeup_working_days", {"date": "2026-10-09", "name": "调休"}),
     "2026-10-09 (Friday) is not a weekend day"),
    ("holiday without a name", _add("holidays", {"date": "2026-10-02", "name": " "}),
     "holidays[1].name: must be a non-empty string"),
    ("holiday without a date", _set("years.2026.holidays.0", {"name": "国庆节"}), "missing key(s) date"),
    ("impossible date", _add("holidays", {"date": "2026-02-30", "name": "春节"}), "is not a real date"),
    ("date in another format", _add("holidays", {"date": "2026/10/02", "name": "国庆节"}),
     "is not a date written YYYY-MM-DD"),
    ("holidays not a list", _set("years.2026.holidays", {"2026-10-01": "国庆节"}), "holidays: must be a list"),
    ("unknown time zone", _set("timezone", "Asia/Peking"), "unknown time zone 'Asia/Peking'"),
    ("weekday number out of range", _set("weekend", [5, 7]), "weekday numbers 0 (Monday) to 6 (Sunday)"),
    ("year key that is not a year", _set("years.26", {}), "a year key must be four digits"),
    ("no year at all", _set("years", {}), "years: must be a non-empty object"),
    ("verified that is not a boolean", _set("years.2026.verified", "yes"), "verified: must be true or false"),
    ("year without its source", _set("years.2026.source", ""), "source: must be a non-empty string"),
]


@pytest.mark.parametrize(("change", "message"), [case[1:] for case in MALFORMED], ids=[case[0] for case in MALFORMED])
def test_a_malformed_calendar_file_is_refused_with_a_clear_message(
    tmp_path: Path, change: Any, message: str
) -> None:
    document = minimal_document()
    change(document)
    path = write_calendar(tmp_path, document)

    with pytest.raises(CalendarError) as caught:
        load_calendar(path)

    assert message in str(caught.value)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"code": "CN",', "not valid JSON"),
        ('{"years": {"2026": {}, "2026": {}}}', "key '2026' appears twice"),
    ],
    ids=["not JSON", "a year repeated, which json would silently overwrite"],
)
def test_a_file_that_is_not_clean_json_is_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "calendar.json"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(CalendarError, match=message):
        load_calendar(path)
