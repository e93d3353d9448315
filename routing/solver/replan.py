"""Re-planning during the day around an urgent job (a critical finding, a fault).

The caller gives the rest of the day as a `Problem` (each crew member's `start` where they are, their
`shift_start` when they are free, work promised by someone pinned to them) with the urgent job among
its jobs. The urgent job goes to the crew member who can reach it soonest, straight from where they
are, among those allowed to do it - unless that would cost a customer their appointment: every job
with a window that the day's plan keeps without the urgent job must stay in the plan. The rest of
the day is re-optimised around it.

Method: the plan without the urgent job is solved once (the baseline: which timed jobs it keeps).
Candidates are tried in order of direct arrival; for each, the urgent job is made most urgent,
pinned to that person and given a window at their direct arrival, so it is their next stop; the
first candidate whose plan serves it and keeps the baseline's timed jobs is chosen. Each try is one
full solve within `time_limit_s`.
"""

from __future__ import annotations

from dataclasses import replace

from core.errors import Conflict
from routing.problem import MOST_URGENT, Problem, TravelMatrices, Window, only_jobs
from routing.results import PlanResult
from routing.solver.engine import Engine, default_engine, may_do
from routing.solver.explain import explain
from routing.solver.feasibility import check
from routing.solver.planner import PlanInfeasible, solve_plan
from routing.solver.schedule import clock_text


class UrgentJobUnplaceable(Conflict):
    """No crew member can take the urgent job without a customer losing their appointment."""

    title = "Urgent job cannot be placed"


def direct_arrivals(problem: Problem, travel: TravelMatrices, job_key: str) -> dict[str, tuple[int, int]]:
    """For each crew member allowed the job, in crew order: (seconds of travel straight from where they
    are, earliest arrival: free, then that travel)."""
    job_no = next(no for no, job in enumerate(problem.jobs) if job.key == job_key)
    found = {}
    for crew_no, crew in enumerate(problem.crews):
        if may_do(crew, problem.jobs[job_no]):
            seconds = int(travel.for_mode(crew.mode).durations_s[problem.start_index(crew_no),
                                                                  problem.job_index(job_no)])
            found[crew.key] = (seconds, crew.shift_start + seconds)
    return found


def _served_by(plan: PlanResult, job_key: str) -> str | None:
    return next((route.crew_key for route in plan.routes if any(stop.job_key == job_key for stop in route.stops)),
                None)


def insert_urgent(problem: Problem, travel: TravelMatrices, *, urgent_key: str, engine: Engine | None = None,
                  time_limit_s: float, seed: int) -> tuple[PlanResult, str]:
    """The re-optimised plan with the urgent job, and the crew member chosen for it; raises
    `UrgentJobUnplaceable` (saying why) when no one can take it while keeping the timed jobs."""
    engine = engine or default_engine()
    urgent_no = next(no for no, job in enumerate(problem.jobs) if job.key == urgent_key)
    urgent = problem.jobs[urgent_no]
    others = tuple(job for job in problem.jobs if job.key != urgent_key)
    baseline = solve_plan(*only_jobs(problem, travel, {job.key for job in others}),
                          engine=engine, time_limit_s=time_limit_s, seed=seed)
    timed = {job.key for job in others if job.window is not None}
    kept = {stop.job_key for route in baseline.routes for stop in route.stops if stop.job_key in timed}

    crews = {crew.key: crew for crew in problem.crews}
    # Soonest first; on a tie, in crew order (the sort is stable).
    candidates = sorted(((arrival, crews[key]) for key, (_, arrival) in
                         direct_arrivals(problem, travel, urgent_key).items()), key=lambda item: item[0])
    passed_over = []
    for arrival, crew in candidates:
        due = max(arrival, urgent.window.start) if urgent.window else arrival
        if urgent.window is not None and due > urgent.window.end:
            passed_over.append(f"{crew.key} arrives at {clock_text(arrival)}, after its window")
            continue
        forced = replace(urgent, priority=MOST_URGENT, pinned_to=crew.key, window=Window(due, due))
        plan = solve_plan(replace(problem, jobs=problem.jobs[:urgent_no] + (forced,) + problem.jobs[urgent_no + 1:]),
                          travel, engine=engine, time_limit_s=time_limit_s, seed=seed)
        served = {stop.job_key for route in plan.routes for stop in route.stops}
        if _served_by(plan, urgent_key) == crew.key and kept <= served:
            return _checked(plan, problem, travel), crew.key
        lost = sorted(kept - served)
        passed_over.append(f"{crew.key} (there at {clock_text(due)})"
                           + (f" would miss {', '.join(lost)}" if lost else " cannot fit it"))
    if not candidates:
        reason = explain(problem, travel, unassigned=[urgent_key])[0]
        raise UrgentJobUnplaceable(f"{urgent_key}: {reason.detail}", reason=str(reason.reason))
    raise UrgentJobUnplaceable(f"{urgent_key}: no crew member can take it and keep every appointment: "
                               + "; ".join(passed_over))


def _checked(plan: PlanResult, problem: Problem, travel: TravelMatrices) -> PlanResult:
    """The forced window and pin were only a means to choose the crew member: the plan is checked
    again against the urgent job as given."""
    violations = check(problem, travel, plan)
    if violations:
        raise PlanInfeasible(violations)
    return plan
