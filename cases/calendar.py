"""Working-day calendar for the legal time limits of connection requests (业扩报装 时限).

The service standards give their limits in *working days* (site survey <= 3, supply-plan reply <= 5, ...,
DOMAIN.md §4). Which days are working days is decided each year by the State Council: public holidays
take weekdays off, and make-up working days (调休上班) turn some Saturdays and Sundays into working days.
That schedule changes every year, so it is data (`cases/data/calendars/<code>.json`) that the utility
maintains, not code; this module only reads it and does the arithmetic. Pure Python, no database.

Deadline semantics (what an approval officer and an auditor expect):

- A deadline is computed from the moment of submission, an *aware* datetime (a naive one is refused:
  guessing its zone could move a legal deadline by a day). It is converted to the calendar's time zone,
  because "which day" is decided by the local date there, not by UTC.
- The day of submission is day 0 and does not count: a request that arrives at 17:59 does not lose
  its first day. The deadline is the END of the Nth working day after the submission day, i.e.
  local midnight at the start of the next calendar day, returned as an aware datetime in UTC.
  Example: submitted Monday 2026-03-02 10:00 Asia/Shanghai, limit 3 working days -> the end of
  Thursday 2026-03-05 local = 2026-03-05T16:00:00Z.
- A request submitted on a holiday or a weekend follows the same rule (the next working days count),
  so the applicant is not penalised for submitting on a day off.
- A limit of 0 working days ends at the end of the submission day itself.
- Days in a year the calendar file does not cover are not guessed: weekend days are off, weekdays are
  working days, so deadlines keep being computed when nobody has loaded next year's schedule yet.
  `WorkingCalendar.covers()` / `covers_span()` and `Remaining.calendar_covered` say so, and callers
  should warn that such a deadline may move once the schedule is published.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

CALENDAR_DIR = Path(__file__).resolve().parent / "data" / "calendars"

_TOP_REQUIRED = frozenset({"code", "name", "timezone", "weekend", "years"})
_TOP_OPTIONAL = frozenset({"about"})
_YEAR_REQUIRED = frozenset({"source", "holidays", "makeup_working_days"})
_YEAR_OPTIONAL = frozenset({"references", "verified"})
_ENTRY_KEYS = frozenset({"date", "name"})
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_YEAR_KEY = re.compile(r"\d{4}")
_ONE_MICROSECOND = timedelta(microseconds=1)
# Fixed English names: strftime("%A") would follow the process locale in error messages.
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class CalendarError(ValueError):
    """The calendar file is malformed; the message names the file and the offending place.

    A wrong calendar silently moves legal deadlines, so a file with any doubt in it is refused as a
    whole rather than partly used.
    """


@dataclass(frozen=True)
class Remaining:
    """Time left before a deadline, as shown to the approval officer and used for escalation.

    working_days: whole working days left after today, up to and including the deadline's last day:
        0 on the last day itself; negative after it (-1 = the first working day after the last day has
        begun, i.e. one working day overdue). It can be 0 while `overdue` when the deadline passed
        and only days off have followed since, so `overdue` is the authority on lateness.
    overdue: the deadline instant has been reached (now >= deadline).
    seconds: deadline - now in seconds (negative when overdue), for precise countdowns and sorting.
    calendar_covered: False if any day from today to the deadline's last day lies in a year the
        calendar file does not cover; the working-day count then rests on the weekend-only fallback.
    """

    working_days: int
    overdue: bool
    seconds: float
    calendar_covered: bool


@dataclass(frozen=True)
class WorkingCalendar:
    """One jurisdiction's working days: a weekly pattern plus per-year holidays and make-up days.

    Build it with `load_calendar`, which validates the data; the mappings are read-only so that a
    calendar shared across requests cannot be changed by one of them.
    """

    code: str
    name: str
    timezone: ZoneInfo
    weekend: frozenset[int]  # date.weekday() numbers: 0 = Monday ... 6 = Sunday
    holidays: Mapping[date, str]  # day off -> holiday name
    makeup_working_days: Mapping[date, str]  # weekend day that is a working day -> name
    covered_years: frozenset[int]
    unverified_years: frozenset[int] = frozenset()  # covered, but entered without checking the notice

    def covers(self, day: date) -> bool:
        """Whether the file gives the official schedule for `day`'s year (else the fallback applies)."""
        return day.year in self.covered_years

    def covers_span(self, first: date, last: date) -> bool:
        """Whether every day between `first` and `last` (either order, both included) is covered."""
        low, high = sorted((first.year, last.year))
        return all(year in self.covered_years for year in range(low, high + 1))

    def is_working_day(self, day: date) -> bool:
        """A make-up day is a working day; a holiday is not; otherwise every non-weekend day is.

        Make-up days are checked first because they are the exception the notice states explicitly;
        the loader guarantees a day is never both.
        """
        if day in self.makeup_working_days:
            return True
        if day in self.holidays:
            return False
        return day.weekday() not in self.weekend

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The deadline of a limit of `days` working days for something submitted at `start`.

        Returns the end of the `days`-th working day after the local submission day (its local
        midnight), in UTC. See the module docstring for the rules and an example.
        """
        if days < 0:
            raise ValueError(f"A time limit cannot be negative working days (got {days}).")
        day = self._to_local(start, "start").date()
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return self._end_of_day(day)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end`; negative when `end` is before `start`.

        Matches `add_working_days`: the submission day does not count, the deadline day does, so
        for a deadline computed from a submission day, the result is the limit in working days.
        For `end` < `start` it is minus the working days after `end` up to and including `start`.
        """
        if end < start:
            return -self.working_days_between(end, start)
        return sum(1 for day in _days_after(start, end) if self.is_working_day(day))

    def remaining(self, *, now: datetime, deadline: datetime) -> Remaining:
        """How much time is left at `now` before `deadline` (both aware datetimes).

        The deadline's last day is the local day holding the last instant before the deadline, so
        for a deadline from `add_working_days` (local midnight) it is the Nth working day itself.
        """
        local_now = self._to_local(now, "now")
        local_deadline = self._to_local(deadline, "deadline")
        today = local_now.date()
        last_day = (local_deadline - _ONE_MICROSECOND).date()
        seconds = (local_deadline - local_now).total_seconds()
        return Remaining(
            working_days=self.working_days_between(today, last_day),
            overdue=local_now >= local_deadline,
            seconds=seconds,
            calendar_covered=self.covers_span(today, last_day),
        )

    def _to_local(self, moment: datetime, what: str) -> datetime:
        """Refuse naive datetimes (their zone would be a guess) and move `moment` to local time."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"{what} must be a timezone-aware datetime, got naive {moment.isoformat()}.")
        return moment.astimezone(self.timezone)

    def _end_of_day(self, day: date) -> datetime:
        """The instant `day` ends locally (midnight starting the next day), expressed in UTC."""
        next_midnight = datetime.combine(day + timedelta(days=1), time.min, tzinfo=self.timezone)
        return next_midnight.astimezone(UTC)


def _days_after(start: date, end: date) -> Iterator[date]:
    """The days after `start` up to and including `end`."""
    for offset in range(1, (end - start).days + 1):
        yield start + timedelta(days=offset)


def default_calendar_path(code: str = "CN") -> Path:
    """Where the calendar shipped for `code` lives: cases/data/calendars/<code lower>.json."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", code):
        raise ValueError(f"Not a calendar code: {code!r}.")
    return CALENDAR_DIR / f"{code.lower()}.json"


def load_calendar(path: Path) -> WorkingCalendar:
    """Read and validate a calendar file (see the `about` text in the shipped cn.json for its shape).

    Raises CalendarError for anything doubtful: unknown or missing keys, keys repeated in the JSON,
    a date listed twice, a date both a holiday and a make-up day, a date outside its year's key, a
    make-up day that is not a weekend day, an entry without a name, an unknown time zone. OSError
    (e.g. a missing file) is left to the caller, as it is not a problem with the calendar's content.
    """
    text = Path(path).read_text(encoding="utf-8")
    try:
        document = json.loads(text, object_pairs_hook=_reject_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise CalendarError(f"{path}: not valid JSON: {exc}") from exc
    except _DuplicateKey as exc:
        raise CalendarError(f"{path}: key {exc.key!r} appears twice in the same object") from exc
    return parse_calendar(document, source=str(path))


def parse_calendar(document: Any, *, source: str) -> WorkingCalendar:
    """Validate an already decoded calendar document (e.g. one stored in the database or sent by an
    administrator); errors name `source` and the JSON path, as for files."""
    return _Parser(source).calendar(document)


class _DuplicateKey(Exception):
    """Raised inside json parsing, where CalendarError would lose the file name."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json's default keeps the last of two equal keys; a repeated year would silently drop data."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


class _Parser:
    """Validates a decoded calendar document; every error message starts with the file and JSON path."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> CalendarError:
        return CalendarError(f"{self.source}: {where}: {problem}")

    def calendar(self, document: Any) -> WorkingCalendar:
        self.check_keys(document, "top level", _TOP_REQUIRED, _TOP_OPTIONAL)
        code = self.text(document["code"], "code")
        name = self.text(document["name"], "name")
        zone = self.zone(document["timezone"])
        weekend = self.weekend(document["weekend"])
        years = document["years"]
        if not isinstance(years, dict) or not years:
            raise self.fail("years", "must be a non-empty object keyed by year")
        holidays: dict[date, str] = {}
        makeup: dict[date, str] = {}
        unverified: set[int] = set()
        for key, body in years.items():
            year = self.year_key(key)
            year_holidays, year_makeup, verified = self.year(year, body, weekend)
            holidays.update(year_holidays)  # dates are checked to lie in their own year: no overlap
            makeup.update(year_makeup)
            if not verified:
                unverified.add(year)
        return WorkingCalendar(
            code=code,
            name=name,
            timezone=zone,
            weekend=weekend,
            holidays=MappingProxyType(holidays),
            makeup_working_days=MappingProxyType(makeup),
            covered_years=frozenset(int(key) for key in years),
            unverified_years=frozenset(unverified),
        )

    def year(self, year: int, body: Any, weekend: frozenset[int]) -> tuple[dict[date, str], dict[date, str], bool]:
        """One year's schedule: (holidays, make-up working days, verified)."""
        where = f"years.{year}"
        self.check_keys(body, where, _YEAR_REQUIRED, _YEAR_OPTIONAL)
        self.text(body["source"], f"{where}.source")
        self.references(body.get("references", []), f"{where}.references")
        verified = body.get("verified", True)
        if not isinstance(verified, bool):
            raise self.fail(f"{where}.verified", "must be true or false")
        holidays = self.entries(body["holidays"], f"{where}.holidays", year)
        makeup = self.entries(body["makeup_working_days"], f"{where}.makeup_working_days", year)
        both = sorted(holidays.keys() & makeup.keys())
        if both:
            raise self.fail(where, f"{both[0].isoformat()} is listed both as a holiday and as a make-up working day")
        weekdays = sorted(day for day in makeup if day.weekday() not in weekend)
        if weekdays:
            first = weekdays[0]
            raise self.fail(f"{where}.makeup_working_days",
                            f"{first.isoformat()} ({_WEEKDAY_NAMES[first.weekday()]}) is not a weekend day, "
                            "so it is already a working day")
        return holidays, makeup, verified

    def check_keys(self, value: Any, where: str, required: frozenset[str], optional: frozenset[str]) -> None:
        """Unknown keys are refused: a misspelt "makeup_workdays" must not silently mean "none"."""
        if not isinstance(value, dict):
            raise self.fail(where, "must be a JSON object")
        unknown = sorted(value.keys() - required - optional)
        if unknown:
            raise self.fail(where, f"unknown key(s) {', '.join(unknown)}")
        missing = sorted(required - value.keys())
        if missing:
            raise self.fail(where, f"missing key(s) {', '.join(missing)}")

    def text(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, "must be a non-empty string")
        return value

    def references(self, value: Any, where: str) -> None:
        if not isinstance(value, list):
            raise self.fail(where, "must be a list of strings")
        for index, item in enumerate(value):
            self.text(item, f"{where}[{index}]")

    def zone(self, value: Any) -> ZoneInfo:
        name = self.text(value, "timezone")
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise self.fail("timezone", f"unknown time zone {name!r}") from exc

    def weekend(self, value: Any) -> frozenset[int]:
        if not isinstance(value, list) or not all(type(item) is int and 0 <= item <= 6 for item in value):
            raise self.fail("weekend", "must be a list of weekday numbers 0 (Monday) to 6 (Sunday)")
        if len(set(value)) != len(value):
            raise self.fail("weekend", "lists a weekday twice")
        if len(value) == 7:
            raise self.fail("weekend", "cannot contain every day of the week")
        return frozenset(value)

    def year_key(self, key: str) -> int:
        if not _YEAR_KEY.fullmatch(key):
            raise self.fail(f"years.{key}", "a year key must be four digits, e.g. \"2026\"")
        return int(key)

    def entries(self, value: Any, where: str, year: int) -> dict[date, str]:
        """Parse a list of {date, name}; each date must be in `year` and appear once in the list."""
        if not isinstance(value, list):
            raise self.fail(where, "must be a list of {\"date\": \"YYYY-MM-DD\", \"name\": ...} objects")
        result: dict[date, str] = {}
        for index, entry in enumerate(value):
            place = f"{where}[{index}]"
            self.check_keys(entry, place, _ENTRY_KEYS, frozenset())
            day = self.day(entry["date"], f"{place}.date")
            label = self.text(entry["name"], f"{place}.name")
            if day.year != year:
                raise self.fail(place, f"{day.isoformat()} is not in {year}, the year it is listed under")
            if day in result:
                raise self.fail(place, f"{day.isoformat()} is listed twice")
            result[day] = label
        return result

    def day(self, value: Any, where: str) -> date:
        if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
            raise self.fail(where, f"{value!r} is not a date written YYYY-MM-DD")
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise self.fail(where, f"{value!r} is not a real date") from exc
