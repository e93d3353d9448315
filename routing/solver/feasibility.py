"""The independent check of a plan: every rule re-computed from the `Problem` and the travel
matrices alone, without the engine or the scheduler, so a bug in either cannot hide itself.

A plan is read as the crew member's timeline: leave the start place, for each stop travel (the
`travel_s` of the matrix, ending on arrival), wait, serve from `start` to `departure`, and finally
travel back, arriving at `return_end`. Travel may begin later than the previous departure (a break,
an unhurried start) but never earlier. The lunch break must start inside its window, last its
duration, and not overlap any travel or service.
"""

from __future__ import annotations

from routing.problem import Crew, Job, Problem, TravelMatrices
from routing.results import CrewRoute, PlanResult, Violation


def _interval_overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def _check_jobs(problem: Problem, crew: Crew, route: CrewRoute, jobs: dict[str, Job]) -> list[Violation]:
    found: list[Violation] = []
    for stop in route.stops:
        job = jobs.get(stop.job_key)
        if job is None:
            found.append(Violation("unknown_job", f"{stop.job_key} is not a job of the problem", crew.key, stop.job_key))
            continue
        if not job.skills <= crew.skills:
            missing = ", ".join(sorted(job.skills - crew.skills))
            found.append(Violation("skill", f"{crew.key} lacks {missing}", crew.key, job.key))
        if job.pinned_to is not None and job.pinned_to != crew.key:
            found.append(Violation("pinned", f"promised by {job.pinned_to}", crew.key, job.key))
        if job.window is not None and not job.window.start <= stop.start <= job.window.end:
            found.append(Violation("window", f"service starts at {stop.start}, outside "
                                             f"[{job.window.start}, {job.window.end}]", crew.key, job.key))
        if stop.departure - stop.start != job.service_s:
            found.append(Violation("service", f"served {stop.departure - stop.start} s, needs {job.service_s} s",
                                   crew.key, job.key))
        if stop.start < stop.arrival:
            found.append(Violation("service", f"service starts at {stop.start} before arrival {stop.arrival}",
                                   crew.key, job.key))
    if crew.capacity is not None:
        load = sum(jobs[stop.job_key].demand for stop in route.stops if stop.job_key in jobs)
        if load > crew.capacity:
            found.append(Violation("capacity", f"load {load} exceeds capacity {crew.capacity}", crew.key))
    return found


def _check_times(problem: Problem, travel: TravelMatrices, crew_no: int, route: CrewRoute) -> list[Violation]:
    crew = problem.crews[crew_no]
    matrix = travel.for_mode(crew.mode)
    index = {job.key: problem.job_index(no) for no, job in enumerate(problem.jobs)}
    found: list[Violation] = []
    busy: list[tuple[int, int]] = []  # travel and service intervals
    place, free_at = problem.start_index(crew_no), route.leave_start
    travel_s = travel_m = 0
    for stop in route.stops:
        here = index.get(stop.job_key)
        if here is None:
            continue
        needed_s, needed_m = int(matrix.durations_s[place, here]), int(matrix.distances_m[place, here])
        if (stop.travel_s, stop.travel_m) != (needed_s, needed_m):
            found.append(Violation("travel", f"travel given as {stop.travel_s} s / {stop.travel_m} m, the matrix "
                                             f"says {needed_s} s / {needed_m} m", crew.key, stop.job_key))
        if stop.arrival - needed_s < free_at:
            found.append(Violation("travel", f"arrives at {stop.arrival}, but cannot set out before {free_at} and "
                                             f"travel takes {needed_s} s", crew.key, stop.job_key))
        busy += [(stop.arrival - needed_s, stop.arrival), (stop.start, stop.departure)]
        travel_s, travel_m = travel_s + needed_s, travel_m + needed_m
        place, free_at = here, stop.departure
    back_s, back_m = (int(matrix.durations_s[place, problem.end_index(crew_no)]),
                      int(matrix.distances_m[place, problem.end_index(crew_no)]))
    if route.return_end - back_s < free_at:
        found.append(Violation("travel", f"back at {route.return_end}, but cannot set out before {free_at} and "
                                         f"the way back takes {back_s} s", crew.key))
    busy.append((route.return_end - back_s, route.return_end))
    travel_s, travel_m = travel_s + back_s, travel_m + back_m
    if route.leave_start < crew.shift_start:
        found.append(Violation("shift_start", f"leaves at {route.leave_start}, before the shift starts at "
                                              f"{crew.shift_start}", crew.key))
    if route.return_end > crew.shift_end:
        found.append(Violation("shift_end", f"back at {route.return_end}, after the shift ends at {crew.shift_end}",
                               crew.key))
    if crew.max_work_s is not None and route.return_end - route.leave_start > crew.max_work_s:
        found.append(Violation("max_work", f"works {route.return_end - route.leave_start} s, at most "
                                           f"{crew.max_work_s} s", crew.key))
    found += _check_lunch(crew, route, busy)
    waits = sum(stop.start - stop.arrival for stop in route.stops)
    if route.lunch is not None:
        waits -= sum(_interval_overlap((stop.arrival, stop.start), (route.lunch.start, route.lunch.end))
                     for stop in route.stops)
    totals = ((route.travel_s, travel_s), (route.travel_m, travel_m),
              (route.service_s, sum(stop.departure - stop.start for stop in route.stops)), (route.wait_s, waits))
    if any(given != computed for given, computed in totals):
        found.append(Violation("totals", f"totals (travel s, m, service, wait) {[g for g, _ in totals]} should be "
                                         f"{[c for _, c in totals]}", crew.key))
    return found


def _check_lunch(crew: Crew, route: CrewRoute, busy: list[tuple[int, int]]) -> list[Violation]:
    lunch, taken = crew.lunch, route.lunch
    if lunch is None or lunch.window.end < crew.shift_start:  # none, or behind them (re-planned afternoon)
        return [Violation("lunch", "a lunch break the crew member does not have", crew.key)] if taken else []
    if taken is None:
        return [Violation("lunch", "no lunch break in a working day that has one", crew.key)]
    found = []
    if not lunch.window.start <= taken.start <= lunch.window.end:
        found.append(Violation("lunch", f"lunch starts at {taken.start}, outside [{lunch.window.start}, "
                                        f"{lunch.window.end}]", crew.key))
    if taken.end - taken.start != lunch.duration_s:
        found.append(Violation("lunch", f"lunch lasts {taken.end - taken.start} s, not {lunch.duration_s} s", crew.key))
    if taken.start < crew.shift_start:
        found.append(Violation("lunch", f"lunch at {taken.start}, before the shift starts", crew.key))
    if any(_interval_overlap((taken.start, taken.end), interval) for interval in busy):
        found.append(Violation("lunch", f"lunch {taken.start}-{taken.end} overlaps travel or service", crew.key))
    return found


def check(problem: Problem, travel: TravelMatrices, result: PlanResult) -> list[Violation]:
    """Every broken rule of the plan (empty: the plan can be worked as written)."""
    jobs = {job.key: job for job in problem.jobs}
    crew_numbers = {crew.key: no for no, crew in enumerate(problem.crews)}
    found: list[Violation] = []
    seen: dict[str, int] = {}
    for route in result.routes:
        for stop in route.stops:
            seen[stop.job_key] = seen.get(stop.job_key, 0) + 1
        if route.crew_key not in crew_numbers:
            found.append(Violation("unknown_crew", f"{route.crew_key} is not a crew member of the problem",
                                   route.crew_key))
            continue
        crew = problem.crews[crew_numbers[route.crew_key]]
        found += _check_jobs(problem, crew, route, jobs)
        if route.stops:
            found += _check_times(problem, travel, crew_numbers[route.crew_key], route)
    for unassigned in result.unassigned:
        seen[unassigned.job_key] = seen.get(unassigned.job_key, 0) + 1
    for key, count in seen.items():
        if count > 1:
            found.append(Violation("duplicate", f"{key} appears {count} times (routes and unassigned)", job_key=key))
    for key in jobs:
        if key not in seen:
            found.append(Violation("unaccounted", f"{key} is neither in a route nor unassigned", job_key=key))
    return found
