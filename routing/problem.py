"""A routing problem as the solver sees it: located jobs, crew members, and the travel between them.

Plain frozen dataclasses, no database and no HTTP: the service layer builds a `Problem` from field
tasks, reading-book customers or a dispatcher's ad-hoc jobs; `routing.travel` builds the
`TravelMatrices` for its points; an `Engine` (`routing.solver.engine`) orders the jobs; the
scheduler, the feasibility check and the explanations read the same objects.

Units, everywhere in the solver: time is integer seconds since the problem's `origin` (an aware
datetime, the plan day's local midnight for a daily plan), distance is integer metres. Integers
because engines (PyVRP) compute in integers, and so that the independent feasibility check and the
engine agree to the second.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

import numpy as np
import numpy.typing as npt

# Priorities are the field tasks' (1 most urgent .. 5), DOMAIN.md §5 / inspections.models.FieldTask.
MOST_URGENT = 1
LEAST_URGENT = 5


@dataclass(frozen=True)
class Point:
    """WGS 84 longitude and latitude in degrees."""

    lon: float
    lat: float


@dataclass(frozen=True)
class Window:
    """When service may start: [start, end] seconds since the origin, both inclusive."""

    start: int
    end: int


@dataclass(frozen=True)
class Job:
    """One stop: a field task, a customer's meter, or a dispatcher's ad-hoc job.

    `key` is unique in the problem and says what the job is (`task:17`, `customer:4411`, `job:<ref>`).
    `window` is None when the job may be done at any time of the shift. `skills` must all be held by
    the crew member who does it. `pinned_to` keeps the job with one crew member (re-planning: work
    already promised to a customer by that person); the engine decides only its place in the route.
    `demand` is a load unit for engines' capacity dimension (0 for field work; the Solomon benchmark
    uses it)."""

    key: str
    point: Point
    service_s: int
    priority: int = 3
    window: Window | None = None
    skills: frozenset[str] = frozenset()
    pinned_to: str | None = None
    demand: int = 0


@dataclass(frozen=True)
class Break:
    """A lunch break: `duration_s` long, starting within `window` (seconds since the origin), taken
    wherever the crew member is at the time (between two stops, or while waiting for a window)."""

    window: Window
    duration_s: int


@dataclass(frozen=True)
class Crew:
    """One crew member for one day: `key` is `user:<id>` for a person (or the benchmark's vehicle).

    The shift is [shift_start, shift_end]: leave `start` no earlier than shift_start, be back at
    `end` by shift_end. `max_work_s` caps the time from leaving to returning (None: the shift's
    length). `mode` is a travel mode of `routing/data/routing.json` (car, motorbike, foot)."""

    key: str
    start: Point
    end: Point
    shift_start: int
    shift_end: int
    skills: frozenset[str] = frozenset()
    mode: str = "car"
    max_work_s: int | None = None
    lunch: Break | None = None
    capacity: int | None = None


@dataclass(frozen=True)
class Problem:
    """Jobs and crews on one day, with the origin their seconds count from."""

    origin: datetime
    jobs: tuple[Job, ...]
    crews: tuple[Crew, ...]

    def points(self) -> list[Point]:
        """The points the travel matrices are indexed by: each crew's start and end, then each job
        (`start_index`, `end_index`, `job_index` give the positions)."""
        return ([point for crew in self.crews for point in (crew.start, crew.end)]
                + [job.point for job in self.jobs])

    def start_index(self, crew_no: int) -> int:
        return 2 * crew_no

    def end_index(self, crew_no: int) -> int:
        return 2 * crew_no + 1

    def job_index(self, job_no: int) -> int:
        return 2 * len(self.crews) + job_no


IntMatrix = npt.NDArray[np.int64]


@dataclass(frozen=True)
class TravelMatrix:
    """Travel between the problem's points for one mode: seconds and metres, [from, to]."""

    durations_s: IntMatrix
    distances_m: IntMatrix


@dataclass(frozen=True)
class TravelMatrices:
    """Travel per mode, and where it came from.

    source: `roads` (pgRouting over the imported road network) or `estimate` (great-circle distance
    times the circuity factor, at the mode's speed: the plan says it is an estimate).
    snapped_m: how far each point lies from the road it was snapped to (empty for an estimate)."""

    by_mode: dict[str, TravelMatrix]
    source: str
    snapped_m: tuple[float, ...] = field(default=())

    def for_mode(self, mode: str) -> TravelMatrix:
        return self.by_mode[mode]

    def taken(self, indexes: Sequence[int]) -> TravelMatrices:
        """The travel between the points at `indexes` only, in that order (rows and columns picked)."""
        pick = np.ix_(indexes, indexes)
        return replace(self, by_mode={mode: TravelMatrix(durations_s=matrix.durations_s[pick],
                                                         distances_m=matrix.distances_m[pick])
                                      for mode, matrix in self.by_mode.items()},
                       snapped_m=tuple(self.snapped_m[i] for i in indexes) if self.snapped_m else ())


def only_jobs(problem: Problem, travel: TravelMatrices, keep: Collection[str]) -> tuple[Problem, TravelMatrices]:
    """The problem with only the jobs whose keys are in `keep` (in the problem's order, crews
    unchanged), and the travel between its points."""
    kept = [no for no, job in enumerate(problem.jobs) if job.key in keep]
    indexes = [*range(2 * len(problem.crews)), *(problem.job_index(no) for no in kept)]
    return replace(problem, jobs=tuple(problem.jobs[no] for no in kept)), travel.taken(indexes)


@dataclass(frozen=True)
class Assignment:
    """What an engine decides: each crew's jobs in visiting order, and the jobs it left out."""

    routes: dict[str, tuple[str, ...]]
    unassigned: tuple[str, ...]
