"""Edge schemas of route planning: what a dispatcher sends to ask for a plan, a re-plan or a
reading window's rounds, and what the plan looks like when read back.

A place is `{"lon": .., "lat": ..}` or a GeoJSON Point, WGS 84 (what a map console and a device both
have at hand); `Place` reads either into one form and names what is wrong otherwise. Times of day
are local (`inspections/data/local_time.json`), `HH:MM`; a job's window is ISO date-times with an
offset. Shapes only: what needs the database (users, tasks, the road network) is checked by
`routing.plan_input`.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from datetime import date, datetime, time
from typing import Annotated, Any
from uuid import UUID

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from core.bounds import DbId, IsoDate, IsoDateTime, column_length
from routing.models import RouteStop
from routing.rules import routing_rules

REF_MAX = column_length(RouteStop.job_ref)
SKILL_MAX = 100
MAX_CREWS = 200
MAX_JOBS = 2000
SEED_MAX = 2**31 - 1


def first_repeat(values: Sequence[Hashable]) -> int | None:
    """The position of the first value that was already listed earlier, or None: the one place the
    request's lists (crew members, tasks, job refs) are checked for an entry given twice."""
    seen: set[Hashable] = set()
    for position, value in enumerate(values):
        if value in seen:
            return position
        seen.add(value)
    return None


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LonLat(_In):
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)


def _place(value: Any) -> Any:
    """A GeoJSON Point becomes `{lon, lat}`; any other geometry is named for what it is."""
    if isinstance(value, dict) and "type" in value:
        if value.get("type") != "Point":
            raise ValueError(f"must be a point ({{lon, lat}} or a GeoJSON Point), not a {value.get('type')}")
        coordinates = value.get("coordinates")
        if not isinstance(coordinates, list | tuple) or len(coordinates) not in (2, 3):
            raise ValueError("a GeoJSON Point needs coordinates [lon, lat]")
        return {"lon": coordinates[0], "lat": coordinates[1]}
    return value


Place = Annotated[LonLat, BeforeValidator(_place)]
Skill = Annotated[str, Field(min_length=1, max_length=SKILL_MAX)]


_CLOCK = re.compile(r"\d{2}:\d{2}(:\d{2})?")


def _clock(value: Any) -> Any:
    """HH:MM (HH:MM:SS as stored requests are read back); numbers are not times of day."""
    if isinstance(value, time) or (isinstance(value, str) and _CLOCK.fullmatch(value)):
        return value
    raise ValueError("must be a local time of day HH:MM, e.g. 08:30")


ClockTime = Annotated[time, BeforeValidator(_clock)]


def _has_a_next_day(value: date) -> date:
    """A plan day ends at the next local midnight, so the last calendar day cannot be one."""
    if value >= date.max:
        raise ValueError("the plan day must be before 9999-12-31")
    return value


PlanDate = Annotated[IsoDate, AfterValidator(_has_a_next_day)]


class ShiftIn(_In):
    start: ClockTime
    end: ClockTime

    @model_validator(mode="after")
    def _ordered(self) -> ShiftIn:
        if self.end <= self.start:
            raise ValueError("the shift must end after it starts")
        return self


class LunchIn(_In):
    earliest_start: ClockTime
    latest_start: ClockTime
    minutes: int = Field(ge=1, le=240)

    @model_validator(mode="after")
    def _ordered(self) -> LunchIn:
        if self.latest_start < self.earliest_start:
            raise ValueError("latest_start is before earliest_start")
        return self


def default_lunch() -> LunchIn:
    rules = routing_rules()
    return LunchIn(earliest_start=rules.lunch_earliest_start, latest_start=rules.lunch_latest_start,
                   minutes=rules.lunch_minutes)


class CrewIn(_In):
    """One crew member's day. `lunch` left out: the rules' default; `null`: no lunch break."""

    user_id: DbId
    shift: ShiftIn
    lunch: LunchIn | None = Field(default_factory=default_lunch)
    start: Place
    end: Place | None = Field(default=None, description="Default: back to start")
    mode: str = Field(default="car", max_length=20, description="A travel mode of routing/data/routing.json")
    max_work_minutes: int | None = Field(default=None, ge=1, le=24 * 60)
    skills: list[Skill] = Field(default_factory=list, max_length=50)


class WindowIn(_In):
    start: IsoDateTime
    end: IsoDateTime

    @model_validator(mode="after")
    def _ordered(self) -> WindowIn:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("window times need a UTC offset")
        if self.end < self.start:
            raise ValueError("the window ends before it starts")
        return self


class JobIn(_In):
    """An ad-hoc job that is not a field task (a customer appointment, a delivery of material)."""

    ref: str = Field(min_length=1, max_length=REF_MAX, description="Unique in the request; names the stop")
    location: Place
    service_minutes: float | None = Field(default=None, ge=0, le=24 * 60, description="Default: the rules'")
    priority: int = Field(default=3, ge=1, le=5, description="1 most urgent .. 5")
    window: WindowIn | None = None
    skills: list[Skill] = Field(default_factory=list, max_length=50)


class RoutePlanIn(_In):
    """A day's plan for some crew members over field tasks (`task_ids`) and ad-hoc `jobs`."""

    uuid: UUID | None = Field(default=None, description="Sent again with the same body: the same plan (200)")
    date: PlanDate
    crews: list[CrewIn] = Field(min_length=1, max_length=MAX_CREWS)
    task_ids: list[DbId] = Field(default_factory=list, max_length=MAX_JOBS)
    jobs: list[JobIn] = Field(default_factory=list, max_length=MAX_JOBS)
    time_limit_s: float | None = Field(default=None, gt=0, description="Default and maximum: routing.json solver")
    seed: int | None = Field(default=None, ge=0, le=SEED_MAX, description="Same input and seed: same plan")


class RePlanIn(_In):
    """The rest of a published plan's day from `at` (default now), with urgent work inserted."""

    at: IsoDateTime | None = None
    urgent_task_ids: list[DbId] = Field(default_factory=list, max_length=50)
    urgent_jobs: list[JobIn] = Field(default_factory=list, max_length=50)
    positions: dict[str, Place] = Field(default_factory=dict, max_length=MAX_CREWS,
                                        description="user id -> where they are now (default: GPS, else plan)")


class ReadingPlanIn(_In):
    """A reading window's rounds: every customer of the books (default: all with customers) read by
    these inspectors over the window's days (`inspections/readings` rules: the 20th to the 23rd)."""

    uuid: UUID | None = Field(default=None, description="Sent again with the same body: the same plan (200)")
    period: str = Field(pattern=r"^\d{4}-\d{2}$", max_length=7, description="The month read, YYYY-MM")
    reader_ids: list[DbId] = Field(min_length=1, max_length=MAX_CREWS)
    book_ids: list[DbId] | None = Field(default=None, max_length=10_000)
    depot: Place | None = Field(default=None, description="Every reader's start and end (default: their books')")
    time_limit_s: float | None = Field(default=None, gt=0, description="Default and maximum: routing.json solver")
    seed: int | None = Field(default=None, ge=0, le=SEED_MAX)


class RoutePlanOut(BaseModel):
    id: int
    uuid: UUID
    kind: str
    state: str
    version: int
    date: date
    progress: float
    travel_source: str | None
    seed: int
    time_limit_s: float
    parent_id: int | None
    created_by_id: int | None
    created_at: datetime
    started_at: datetime | None
    solved_at: datetime | None
    published_at: datetime | None
    result: dict[str, Any] | None = Field(description="Routes, totals, unassigned jobs with reasons (when solved)")
    error: dict[str, Any] | None = Field(description="Problem details when the plan failed")


class RoutePlanPage(BaseModel):
    items: list[RoutePlanOut]
    next_cursor: str | None


class MyStopOut(BaseModel):
    position: int
    task_id: int | None
    customer_id: int | None
    job_ref: str | None
    title: str
    location: dict[str, Any]
    planned_arrival: datetime
    planned_start: datetime
    planned_departure: datetime


class MyRouteOut(BaseModel):
    user_id: int
    date: date
    plan_id: int | None
    plan_version: int | None
    stops: list[MyStopOut]
