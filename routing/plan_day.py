"""The day a plan is for, and the clock the solver counts on it: seconds since the day's local
midnight (`Problem.origin`) in the utility's zone (`inspections/data/local_time.json`).

Local times of day become seconds through real aware datetimes (not `hours * 3600`), so a zone
with a daylight-saving change would still place 08:30 at 08:30."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from inspections.policy import local_timezone


@dataclass(frozen=True)
class PlanDay:
    day: date
    origin: datetime  # local midnight, aware
    end: datetime     # the next local midnight

    @classmethod
    def of(cls, day: date) -> PlanDay:
        zone = local_timezone()
        return cls(day=day, origin=datetime.combine(day, time(0), zone),
                   end=datetime.combine(day + timedelta(days=1), time(0), zone))

    @property
    def length_s(self) -> int:
        return self.seconds(self.end)

    def clip(self, moment: datetime) -> datetime:
        """The moment, or the day's start or end if it lies before or after the day (compared, not
        converted: a moment in year 1 is before any plan day, not an overflow)."""
        return min(max(moment, self.origin), self.end)

    def at(self, clock: time) -> int:
        """Seconds since the origin of a local time of day on this day."""
        return self.seconds(datetime.combine(self.day, clock, self.origin.tzinfo))

    def seconds(self, moment: datetime) -> int:
        # In UTC: Python subtracts two datetimes of the same zone on the wall clock.
        return int((moment.astimezone(UTC) - self.origin.astimezone(UTC)).total_seconds())

    def moment(self, seconds: int) -> datetime:
        """The aware local datetime `seconds` after the origin (what the output prints in ISO)."""
        return (self.origin.astimezone(UTC) + timedelta(seconds=seconds)).astimezone(self.origin.tzinfo)
