"""Why a job is not in the plan: the first reason of `results.Reason` that applies, with a detail
naming the figures a dispatcher can act on (which skill is missing, the earliest arrival against the
window, the journey against the shift).

"Fits alone" means the crew member's day with only this job can be scheduled (`schedule_route`:
window, lunch, shift end, maximum working time). A job that fits alone for someone but is still out
was displaced by other work: `no_capacity`.
"""

from __future__ import annotations

from collections.abc import Sequence

from routing.problem import Crew, Job, Problem, TravelMatrices
from routing.results import Reason, Unassigned
from routing.solver.schedule import (
    RouteInfeasible,
    clock_text,
    minutes_text,
    problem_index,
    schedule_route,
    usable_lunch,
)


def _fits_alone(problem: Problem, travel: TravelMatrices, crew: Crew, job: Job) -> RouteInfeasible | None:
    """None when the crew member could do the job as their only one; else what stops them."""
    try:
        schedule_route(problem, travel, crew_key=crew.key, job_keys=[job.key])
    except RouteInfeasible as exc:
        return exc
    return None


def _without_window(problem: Problem, job: Job) -> Problem:
    jobs = tuple(Job(key=j.key, point=j.point, service_s=j.service_s, priority=j.priority, window=None,
                     skills=j.skills, pinned_to=j.pinned_to, demand=j.demand) if j.key == job.key else j
                 for j in problem.jobs)
    return Problem(origin=problem.origin, jobs=jobs, crews=problem.crews)


def _round_trip_s(problem: Problem, travel: TravelMatrices, crew: Crew, job: Job) -> int:
    index = problem_index(problem)
    crew_no, job_index = index.crew_no[crew.key], problem.job_index(index.job_no[job.key])
    durations = travel.for_mode(crew.mode).durations_s
    return int(durations[problem.start_index(crew_no), job_index] + durations[job_index, problem.end_index(crew_no)])


def _usable_shift_s(crew: Crew) -> int:
    """The working time a crew member can give to travel and jobs: shift (or maximum working time)
    less the lunch still to take."""
    length = crew.shift_end - crew.shift_start
    if crew.max_work_s is not None:
        length = min(length, crew.max_work_s)
    lunch = usable_lunch(crew)
    return length - (lunch.duration_s if lunch else 0)


def _window_detail(problem: Problem, travel: TravelMatrices, crews: Sequence[Crew], job: Job) -> str:
    assert job.window is not None
    index = problem_index(problem)
    arrivals = []
    for crew in crews:
        durations = travel.for_mode(crew.mode).durations_s
        arrivals.append((crew.shift_start + int(durations[problem.start_index(index.crew_no[crew.key]),
                                                          problem.job_index(index.job_no[job.key])]), crew))
    arrival, crew = min(arrivals, key=lambda item: item[0])
    window = f"{clock_text(job.window.start)}-{clock_text(job.window.end)}"
    if arrival > job.window.end:
        return (f"earliest arrival {clock_text(arrival)} ({crew.key}) is after the window's end "
                f"{clock_text(job.window.end)}")
    refusal = _fits_alone(problem, travel, crew, job)
    because = f": {refusal.detail}" if refusal else ""
    return f"no crew member can serve it inside its window {window} and be back within the shift{because}"


def _explain_one(problem: Problem, travel: TravelMatrices, job: Job) -> Unassigned:
    crew_keys = {crew.key for crew in problem.crews}
    skilled = [crew for crew in problem.crews if job.skills <= crew.skills]
    if not skilled:
        needs = ", ".join(sorted(job.skills))
        return Unassigned(job.key, Reason.no_skill, f"needs {needs}: no crew member in the plan holds them all")
    if job.pinned_to is not None and job.pinned_to not in crew_keys:
        return Unassigned(job.key, Reason.pinned_crew_absent, f"promised by {job.pinned_to}, who is not in the plan")
    eligible = [crew for crew in skilled if job.pinned_to in (None, crew.key)]
    if not eligible:
        missing = ", ".join(sorted(job.skills))
        return Unassigned(job.key, Reason.no_skill, f"promised by {job.pinned_to}, who does not hold {missing}")
    if all(_fits_alone(problem, travel, crew, job) is not None for crew in eligible):
        relaxed = _without_window(problem, job)
        if job.window is not None and any(_fits_alone(relaxed, travel, crew, job) is None for crew in eligible):
            return Unassigned(job.key, Reason.window_unreachable, _window_detail(problem, travel, eligible, job))
        need, crew = min(((_round_trip_s(problem, travel, crew, job) + job.service_s, crew) for crew in eligible),
                         key=lambda item: item[0] - _usable_shift_s(item[1]))
        return Unassigned(job.key, Reason.shift_too_short,
                          f"travel there and back plus service take {minutes_text(need)}; {crew.key} can give "
                          f"{minutes_text(_usable_shift_s(crew))} (shift less lunch)")
    sized = [crew for crew in eligible if crew.capacity is None or crew.capacity >= job.demand]
    if not sized:
        largest = max(crew.capacity or 0 for crew in eligible)
        return Unassigned(job.key, Reason.no_capacity, f"demand {job.demand} exceeds every capacity (largest {largest})")
    fitting = next((crew for crew in sized if _fits_alone(problem, travel, crew, job) is None), sized[0])
    return Unassigned(job.key, Reason.no_capacity,
                      f"it fits alone in {fitting.key}'s day, but the crews' days are full with other work "
                      f"(more urgent, or more of it fits)")


def explain(problem: Problem, travel: TravelMatrices, *, unassigned: Sequence[str]) -> tuple[Unassigned, ...]:
    """The reason and detail for each job key in `unassigned`, in the order given."""
    jobs = {job.key: job for job in problem.jobs}
    return tuple(_explain_one(problem, travel, jobs[key]) for key in unassigned)
