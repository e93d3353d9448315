"""What a plan is once solved: per crew member the stops with their times, the lunch break, the
totals, and the jobs left out with the reason. Produced by `routing.solver.planner`, checked by
`routing.solver.feasibility`, rendered by the service. Times are seconds since the problem's origin.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Reason(StrEnum):
    """Why a job is not in the plan; the first that applies, in this order."""

    no_skill = "no_skill"                      # no crew member holds every skill it needs
    pinned_crew_absent = "pinned_crew_absent"  # pinned to someone who is not in the plan
    window_unreachable = "window_unreachable"  # no one can get there inside its window (and back in shift)
    shift_too_short = "shift_too_short"        # travel there and back plus service exceeds every usable shift
    no_capacity = "no_capacity"                # it fits alone, but the crews' days are full of more urgent work


@dataclass(frozen=True)
class ScheduledStop:
    job_key: str
    arrival: int
    start: int        # service starts (after waiting for the window)
    departure: int    # start + service
    wait_s: int
    travel_s: int     # from the previous place (start, a stop)
    travel_m: int


@dataclass(frozen=True)
class ScheduledBreak:
    start: int
    end: int
    after_job: str | None  # taken after this stop; None: before the first stop


@dataclass(frozen=True)
class CrewRoute:
    crew_key: str
    leave_start: int
    return_end: int
    stops: tuple[ScheduledStop, ...]
    lunch: ScheduledBreak | None
    travel_s: int        # including the way back to the end place
    travel_m: int
    service_s: int
    wait_s: int

    @property
    def work_s(self) -> int:
        return self.return_end - self.leave_start


@dataclass(frozen=True)
class Unassigned:
    job_key: str
    reason: Reason
    detail: str


@dataclass(frozen=True)
class PlanResult:
    routes: tuple[CrewRoute, ...]
    unassigned: tuple[Unassigned, ...]
    engine: str
    seed: int
    travel_source: str


@dataclass(frozen=True)
class Violation:
    """A broken rule found by the independent check: which crew, which job, which rule, by how much."""

    rule: str
    detail: str
    crew_key: str | None = None
    job_key: str | None = None
