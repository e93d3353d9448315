"""The times of one crew member's day, for a given order of jobs.

The engine decides who does what and in which order; this module turns that order into the times a
crew member lives by: when to leave, arrival, waiting for a window, start and end of service at each
stop, where the lunch break fits, and when they are back. It is a pure function of the sequence, so
the planner, the explanations ("would this job fit alone?") and the re-planner all use the same one.

Rules it applies:
- Service starts at the earliest moment: on arrival, or when the job's window opens.
- The lunch break is taken between two stops, wherever the crew member is: either on leaving a place
  (before travelling on) or on arriving at the next one (before service, using the wait for a window
  when there is one). The positions worth trying (`_positions`) are tried and the one giving the
  earliest return is kept (ties: the earliest break). A day over before the lunch window opens has
  lunch at the end place. When the lunch window closes before the shift starts (re-planning in
  the afternoon) there is no lunch left to place.
- Leaving: as late as possible without returning later, so time spent waiting at the first windows is
  spent at the start place instead (working time = return - leave, what `max_work_s` caps).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from threading import Lock

from routing.problem import Break, Crew, Job, Problem, TravelMatrices
from routing.results import CrewRoute, ScheduledBreak, ScheduledStop


class RouteInfeasible(ValueError):
    """The order cannot be kept: `rule` names the broken rule (window, shift_end, max_work, lunch)."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail)
        self.rule = rule
        self.detail = detail


@dataclass(frozen=True)
class ProblemIndex:
    """Where each job and crew member sits in the problem (and so in the matrices), by key."""

    job_no: dict[str, int]
    crew_no: dict[str, int]


_recent_indexes: dict[int, tuple[Problem, ProblemIndex]] = {}
_recent_lock = Lock()


def problem_index(problem: Problem) -> ProblemIndex:
    """The problem's index, built once per problem object: explaining a thousand left-out stops
    schedules thousands of one-job days on the same problem."""
    with _recent_lock:
        hit = _recent_indexes.get(id(problem))
        if hit is not None and hit[0] is problem:  # the problem is held here, so its id is not reused
            return hit[1]
        index = ProblemIndex(job_no={job.key: no for no, job in enumerate(problem.jobs)},
                             crew_no={crew.key: no for no, crew in enumerate(problem.crews)})
        if len(_recent_indexes) >= 8:
            _recent_indexes.pop(next(iter(_recent_indexes)))
        _recent_indexes[id(problem)] = (problem, index)
        return index


def usable_lunch(crew: Crew) -> Break | None:
    """The lunch break still to be taken: None without one, or when its window closed before the
    shift starts (a re-planned afternoon: lunch is behind them)."""
    if crew.lunch is None or crew.lunch.window.end < crew.shift_start:
        return None
    return crew.lunch


# Where the break goes: (gap, on_arrival). Gap i lies between place i-1 and place i of the route
# (place 0 .. n-1 are the stops, gap 0 starts at the start place, gap n ends at the end place).
# on_arrival False: on leaving place i-1 (gap 0: before leaving the start place); True: on arriving
# at place i, before service (gap n: after returning).
_Position = tuple[int, bool]


@dataclass(frozen=True)
class _Leg:
    job: Job | None  # None: the way back to the end place
    travel_s: int
    travel_m: int


@dataclass(frozen=True)
class _Timed:
    leave: int
    back: int
    stops: tuple[ScheduledStop, ...]
    lunch: ScheduledBreak | None


def _legs(problem: Problem, travel: TravelMatrices, crew_no: int, jobs: Sequence[Job]) -> list[_Leg]:
    crew = problem.crews[crew_no]
    matrix = travel.for_mode(crew.mode)
    job_no = problem_index(problem).job_no
    places = ([problem.start_index(crew_no)] + [problem.job_index(job_no[job.key]) for job in jobs]
              + [problem.end_index(crew_no)])
    return [_Leg(job=jobs[no] if no < len(jobs) else None,
                 travel_s=int(matrix.durations_s[a, b]), travel_m=int(matrix.distances_m[a, b]))
            for no, (a, b) in enumerate(pairwise(places))]


def _simulate(legs: Sequence[_Leg], keys: Sequence[str], leave: int, lunch: Break | None,
              position: _Position | None, *, deadlines: bool = True) -> _Timed:
    """Earliest times leaving at `leave` with the break at `position`; raises `RouteInfeasible`
    for a window missed (unless not `deadlines`) or a break that cannot start inside its window."""
    clock, taken = leave, None
    stops: list[ScheduledStop] = []

    def take_break(at: int, gap: int) -> int:
        nonlocal taken
        assert lunch is not None
        start = max(at, lunch.window.start)
        if start > lunch.window.end:
            raise RouteInfeasible("lunch", f"the lunch break cannot start by {clock_text(lunch.window.end)}")
        taken = ScheduledBreak(start=start, end=start + lunch.duration_s, after_job=keys[gap - 1] if gap else None)
        return taken.end

    for gap, leg in enumerate(legs):
        if position == (gap, False):
            clock = take_break(clock, gap)
            if gap == 0:
                leave = clock
        arrival = clock + leg.travel_s
        if leg.job is None:
            if position == (gap, True):
                take_break(arrival, gap)
            return _Timed(leave=leave, back=arrival, stops=tuple(stops), lunch=taken)
        ready = take_break(arrival, gap) if position == (gap, True) else arrival
        window = leg.job.window
        start = max(ready, window.start) if window else ready
        if deadlines and window and start > window.end:
            raise RouteInfeasible("window", f"{leg.job.key}: earliest start {clock_text(start)} is after "
                                            f"the window's end {clock_text(window.end)}")
        lunch_here = lunch.duration_s if lunch is not None and position == (gap, True) else 0
        stops.append(ScheduledStop(job_key=leg.job.key, arrival=arrival, start=start,
                                   departure=start + leg.job.service_s, wait_s=start - arrival - lunch_here,
                                   travel_s=leg.travel_s, travel_m=leg.travel_m))
        clock = start + leg.job.service_s
    raise AssertionError("a route ends with the way back")  # pragma: no cover


def _positions(legs: Sequence[_Leg], keys: Sequence[str], leave: int, lunch: Break) -> list[_Position]:
    """The break positions worth trying: from the no-lunch times, the last gap reached before the
    lunch window opens (working up to it dominates stopping earlier) and every gap reached inside
    it. Keeps a long meter-reading round linear instead of quadratic."""
    times = [leave] + [stop.departure for stop in _simulate(legs, keys, leave, None, None, deadlines=False).stops]
    before = [gap for gap, at in enumerate(times) if at <= lunch.window.start]
    inside = [gap for gap, at in enumerate(times) if lunch.window.start < at <= lunch.window.end]
    gaps = ([before[-1]] if before else []) + inside
    if not gaps:
        gaps = [0]
    return [(gap, on_arrival) for gap in gaps for on_arrival in (False, True)]


def _best(legs: Sequence[_Leg], keys: Sequence[str], leave: int, lunch: Break | None,
          positions: Sequence[_Position | None]) -> tuple[_Timed, _Position | None]:
    found: list[tuple[tuple[int, int], _Timed, _Position | None]] = []
    failure: RouteInfeasible | None = None
    for position in positions:
        try:
            timed = _simulate(legs, keys, leave, lunch, position)
        except RouteInfeasible as exc:
            failure = failure or exc
            continue
        found.append(((timed.back, timed.lunch.start if timed.lunch else 0), timed, position))
    if not found:
        assert failure is not None
        if lunch is None:
            raise failure
        _simulate(legs, keys, leave, None, None)  # raises when the day fails even without lunch
        raise RouteInfeasible("lunch", f"no place for the {minutes_text(lunch.duration_s)} lunch break starting "
                                       f"{clock_text(lunch.window.start)}-{clock_text(lunch.window.end)} "
                                       f"without missing a window")
    _, timed, position = min(found, key=lambda item: item[0])
    return timed, position


def schedule_route(problem: Problem, travel: TravelMatrices, *, crew_key: str, job_keys: Sequence[str]) -> CrewRoute:
    """The crew member's day doing `job_keys` in this order; raises `RouteInfeasible` when a window,
    the lunch window, the shift's end or the maximum working time cannot be kept."""
    index = problem_index(problem)
    crew_no = index.crew_no[crew_key]
    crew = problem.crews[crew_no]
    if not job_keys:
        return CrewRoute(crew_key=crew_key, leave_start=crew.shift_start, return_end=crew.shift_start, stops=(),
                         lunch=None, travel_s=0, travel_m=0, service_s=0, wait_s=0)
    jobs = [problem.jobs[index.job_no[key]] for key in job_keys]
    legs = _legs(problem, travel, crew_no, jobs)
    lunch = usable_lunch(crew)
    positions: list[_Position | None] = (
        [None] if lunch is None else list(_positions(legs, job_keys, crew.shift_start, lunch)))
    earliest, position = _best(legs, job_keys, crew.shift_start, lunch, positions)
    # Latest leave with the same return: the return is non-decreasing in the leave time.
    low, high = crew.shift_start, max(crew.shift_start, earliest.back)
    while low < high:
        middle = (low + high + 1) // 2
        try:
            same = _simulate(legs, job_keys, middle, lunch, position).back == earliest.back
        except RouteInfeasible:
            same = False
        low, high = (middle, high) if same else (low, middle - 1)
    timed = _simulate(legs, job_keys, low, lunch, position)
    if timed.back > crew.shift_end:
        raise RouteInfeasible("shift_end", f"back at {clock_text(timed.back)}, after the shift's end "
                                           f"{clock_text(crew.shift_end)}")
    if crew.max_work_s is not None and timed.back - timed.leave > crew.max_work_s:
        raise RouteInfeasible("max_work", f"working time {minutes_text(timed.back - timed.leave)} exceeds "
                                          f"the maximum {minutes_text(crew.max_work_s)}")
    return CrewRoute(crew_key=crew_key, leave_start=timed.leave, return_end=timed.back, stops=timed.stops,
                     lunch=timed.lunch, travel_s=sum(leg.travel_s for leg in legs),
                     travel_m=sum(leg.travel_m for leg in legs), service_s=sum(job.service_s for job in jobs),
                     wait_s=sum(stop.wait_s for stop in timed.stops))


def clock_text(seconds: int) -> str:
    """Seconds since the origin as HH:MM (a later day keeps counting hours: 25:10)."""
    sign = "-" if seconds < 0 else ""
    minutes = abs(seconds) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def minutes_text(seconds: int) -> str:
    return f"{round(seconds / 60)} min"
