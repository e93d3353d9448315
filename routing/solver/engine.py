"""Engines order the jobs: who does what, in which order. One small interface (`Engine`), so the
optimiser behind it can change; PyVRP is the one in use (issue 12 §3: its quality on time-window
problems measured by `./gw bench routing`).

How a `Problem` becomes a PyVRP model (`PyVrpEngine`):
- One location per point of `Problem.points()` (the travel matrices' indexing); one depot per
  distinct start/end point; one client per job.
- One vehicle type per distinct crew signature (start, end, shift, maximum working time, lunch,
  capacity, profile); identical crews share it with `num_available=k`, and the k routes are handed
  back to the k crews in a fixed order, so the same solution always gives the same `Assignment`.
- Skills and pinning are profiles: one per distinct (mode, skill set, the crew itself when jobs are
  pinned to it). A profile's duration matrix makes travel into a job its crews may not do longer than
  any shift, so the engine can never keep such a visit.
- Priorities: every job is optional, with a prize worth more than serving it can cost, and the
  search runs by urgency (`urgency.solve_by_urgency`): the most urgent work is kept first, then as
  many jobs as fit, then time (or distance) is minimised.
- Capacity: one load dimension when any crew has a capacity (the Solomon benchmark).
- Lunch: reserved in "solver time", in which the break lasts no time (see `_solver_window`): the
  crew's latest return and maximum working time are reduced by the break, and job windows are moved
  so that a schedule found in solver time stays valid once the break is put in for real by
  `schedule.schedule_route`. Exact for windows that end before the break window opens or open after
  it closes; conservative for windows that overlap it. The planner re-checks every route.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pyvrp

from routing.problem import Assignment, Break, Crew, Job, Problem, TravelMatrices
from routing.solver.schedule import usable_lunch
from routing.solver.search import run_search
from routing.solver.urgency import Search, solve_by_urgency, urgency_prizes

OBJECTIVES = ("duration", "distance")


class Engine(Protocol):
    name: str

    def solve(self, problem: Problem, travel: TravelMatrices, *, time_limit_s: float, seed: int,
              on_progress: Callable[[float], None] | None = None) -> Assignment: ...


@dataclass(frozen=True)
class _Profile:
    mode: str
    skills: frozenset[str]
    pinned_crew: str | None


@dataclass(frozen=True)
class _Signature:
    start: int   # depot numbers
    end: int
    shift_start: int
    shift_end: int
    max_work_s: int | None
    lunch: Break | None
    capacity: int | None
    profile: int


def may_do(crew: Crew, job: Job) -> bool:
    """Whether the crew member is allowed the job: holds its skills, and it is not someone else's."""
    return job.skills <= crew.skills and job.pinned_to in (None, crew.key)


def _profile(problem: Problem, crew: Crew) -> _Profile:
    has_pinned = any(job.pinned_to == crew.key for job in problem.jobs)
    return _Profile(mode=crew.mode, skills=crew.skills, pinned_crew=crew.key if has_pinned else None)


def _profile_allows(profile: _Profile, job: Job) -> bool:
    """`may_do` for every crew of the profile (a crew with jobs pinned to it has its own profile)."""
    return job.skills <= profile.skills and job.pinned_to in (None, profile.pinned_crew)


def _solver_window(job: Job, lunches: set[Break | None]) -> tuple[int, int] | None:
    """The job's window in solver time, valid for every crew's lunch (None: no window).

    For one break (start window [bs, be], duration d): a window ending before bs is unchanged (the
    job is done before lunch); one opening after be moves back by d (lunch is always before it); one
    overlapping [bs, be] loses d at its end, so the job is on time whether lunch falls before it or
    after it (conservative) - or, when that leaves nothing, keeps only the part where the job can end
    before the break window closes. Several different lunches: the intersection, or the window as
    given if they leave nothing (the planner re-checks the route)."""
    if job.window is None:
        return None
    start, end = job.window.start, job.window.end
    windows = []
    for lunch in lunches:
        if lunch is None:
            windows.append((start, end))
            continue
        bs, be, d = lunch.window.start, lunch.window.end, lunch.duration_s
        if end < bs:
            windows.append((start, end))
        elif start > be:
            windows.append((start - d, end - d))
        elif end - d >= start:
            windows.append((start, end - d))
        else:
            windows.append((start, min(end, be - job.service_s)))
    early, late = max(window[0] for window in windows), min(window[1] for window in windows)
    return (early, late) if early <= late else (start, end)


class PyVrpEngine:
    """PyVRP's iterated local search over the model described in the module docstring.

    objective: "duration" (field work: minimise working time) or "distance" (the Solomon benchmark's
    measure). all_required: every job must be served (the benchmark's instances always fit). search:
    the search to run (`search.run_search`; `urgency.solve_by_urgency` runs it by stages of urgency)."""

    name = "pyvrp"

    def __init__(self, *, objective: str = "duration", all_required: bool = False, search: Search = run_search) -> None:
        if objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, not {objective!r}")
        self.objective = objective
        self.all_required = all_required
        self.search = search

    def solve(self, problem: Problem, travel: TravelMatrices, *, time_limit_s: float, seed: int,
              on_progress: Callable[[float], None] | None = None) -> Assignment:
        if not problem.jobs or not problem.crews:
            if on_progress is not None:
                on_progress(1.0)
            return Assignment(routes={crew.key: () for crew in problem.crews},
                              unassigned=tuple(job.key for job in problem.jobs))
        data, crews_by_type = self._model(problem, travel)
        workable = solve_by_urgency(data, [job.priority for job in problem.jobs], search=self.search,
                                    all_required=self.all_required, time_limit_s=time_limit_s, seed=seed,
                                    on_progress=on_progress)
        visits_by_type: dict[int, list[tuple[int, ...]]] = {}
        for vehicle_type, clients in workable:
            if clients:
                visits_by_type.setdefault(vehicle_type, []).append(tuple(clients))
        routes: dict[str, tuple[str, ...]] = {crew.key: () for crew in problem.crews}
        for type_no, crew_keys in enumerate(crews_by_type):
            for crew_key, visits in zip(crew_keys, sorted(visits_by_type.get(type_no, [])), strict=False):
                routes[crew_key] = tuple(problem.jobs[client].key for client in visits)
        served = {key for keys in routes.values() for key in keys}
        return Assignment(routes=routes, unassigned=tuple(job.key for job in problem.jobs if job.key not in served))

    def _model(self, problem: Problem, travel: TravelMatrices) -> tuple[pyvrp.ProblemData, list[list[str]]]:
        points = problem.points()
        locations = [pyvrp.Location(x=point.lon, y=point.lat) for point in points]
        depot_of_point: dict[tuple[float, float], int] = {}
        depots: list[pyvrp.Depot] = []
        for crew_no, crew in enumerate(problem.crews):
            for point, index in ((crew.start, problem.start_index(crew_no)), (crew.end, problem.end_index(crew_no))):
                if (point.lon, point.lat) not in depot_of_point:
                    depot_of_point[(point.lon, point.lat)] = len(depots)
                    depots.append(pyvrp.Depot(location=index))

        profiles: list[_Profile] = []
        signatures: dict[_Signature, list[str]] = {}
        for crew in problem.crews:
            profile = _profile(problem, crew)
            if profile not in profiles:
                profiles.append(profile)
            signature = _Signature(start=depot_of_point[(crew.start.lon, crew.start.lat)],
                                   end=depot_of_point[(crew.end.lon, crew.end.lat)], shift_start=crew.shift_start,
                                   shift_end=crew.shift_end, max_work_s=crew.max_work_s, lunch=usable_lunch(crew),
                                   capacity=crew.capacity, profile=profiles.index(profile))
            signatures.setdefault(signature, []).append(crew.key)

        horizon = max(crew.shift_end for crew in problem.crews) - min(crew.shift_start for crew in problem.crews)
        prohibitive = horizon + max(job.service_s for job in problem.jobs) + 1
        durations, distances = self._matrices(problem, travel, profiles, prohibitive)

        with_load = any(crew.capacity is not None for crew in problem.crews)
        total_demand = sum(job.demand for job in problem.jobs)
        vehicle_types = [self._vehicle_type(signature, len(keys), with_load, total_demand)
                         for signature, keys in signatures.items()]
        prizes = urgency_prizes([job.priority for job in problem.jobs],
                                self._job_value(problem, durations, distances, prohibitive))
        lunches = {usable_lunch(crew) for crew in problem.crews}
        clients = []
        for job_no, job in enumerate(problem.jobs):
            window = _solver_window(job, lunches)
            clients.append(pyvrp.Client(
                location=problem.job_index(job_no), delivery=[job.demand] if with_load else [],
                service_duration=job.service_s, tw_early=window[0] if window else 0,
                tw_late=window[1] if window else np.iinfo(np.int64).max, prize=prizes[job.priority],
                required=self.all_required))
        data = pyvrp.ProblemData(locations, clients, depots, vehicle_types, distances, durations)  # type: ignore[arg-type]
        return data, list(signatures.values())

    def _matrices(self, problem: Problem, travel: TravelMatrices, profiles: Sequence[_Profile],
                  prohibitive: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
        durations, distances = [], []
        for profile in profiles:
            matrix = travel.for_mode(profile.mode)
            duration = np.array(matrix.durations_s, dtype=np.int64, copy=True)
            for job_no, job in enumerate(problem.jobs):
                if not _profile_allows(profile, job):
                    index = problem.job_index(job_no)
                    duration[:, index] = prohibitive
                    duration[index, index] = 0
            durations.append(duration)
            distances.append(np.asarray(matrix.distances_m, dtype=np.int64))
        return durations, distances

    def _vehicle_type(self, signature: _Signature, count: int, with_load: bool, total_demand: int) -> pyvrp.VehicleType:
        lunch_s = signature.lunch.duration_s if signature.lunch else 0
        work_s = signature.max_work_s if signature.max_work_s is not None else signature.shift_end - signature.shift_start
        capacity = signature.capacity if signature.capacity is not None else total_demand
        return pyvrp.VehicleType(
            num_available=count, capacity=[capacity] if with_load else [], start_depot=signature.start,
            end_depot=signature.end, tw_early=signature.shift_start,
            tw_late=max(signature.shift_start, signature.shift_end - lunch_s),
            shift_duration=max(0, work_s - lunch_s), profile=signature.profile,
            unit_distance_cost=1 if self.objective == "distance" else 0,
            unit_duration_cost=1 if self.objective == "duration" else 0)

    def _job_value(self, problem: Problem, durations: Sequence[np.ndarray], distances: Sequence[np.ndarray],
                   prohibitive: int) -> int:
        """More than serving any one job can add to the objective: its way in and out at their
        longest (and for working time its service, and waiting up to a whole working day)."""
        if self.objective == "distance":
            return 2 * max(int(matrix.max()) for matrix in distances) + 1
        usable = [np.where(matrix >= prohibitive, 0, matrix) for matrix in durations]
        longest_leg = max(int(matrix.max()) for matrix in usable)
        longest_day = max(crew.max_work_s if crew.max_work_s is not None else crew.shift_end - crew.shift_start
                          for crew in problem.crews)
        return 2 * longest_leg + max(job.service_s for job in problem.jobs) + longest_day + 1


def default_engine() -> Engine:
    """The engine plans use unless told otherwise: PyVRP minimising working time."""
    return PyVrpEngine(objective="duration")
