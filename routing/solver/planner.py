"""One plan, start to end: the engine orders the jobs, each route is scheduled (times, lunch), every
job left out is explained, and the independent check (`feasibility.check`) has the last word.

The engine works in a simplified model (lunch reserved, not placed), so a route it returns may, in rare
cases, not survive real scheduling (a single long job covering the whole lunch window, say). Such a
route is repaired here by leaving out its least urgent job(s) - those then appear as unassigned with
their reason - rather than handing a dispatcher a day that cannot be worked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from routing.problem import Crew, Job, Problem, TravelMatrices
from routing.results import CrewRoute, PlanResult, Violation
from routing.solver.engine import Engine, default_engine, may_do
from routing.solver.explain import explain
from routing.solver.feasibility import check
from routing.solver.schedule import RouteInfeasible, schedule_route


class PlanInfeasible(Exception):
    """The independent check found broken rules in a plan about to be returned: a bug, not bad input."""

    def __init__(self, violations: Sequence[Violation]) -> None:
        self.violations = tuple(violations)
        super().__init__("; ".join(f"{v.rule}: {v.detail}" for v in self.violations[:5]))


def _scheduled(problem: Problem, travel: TravelMatrices, crew: Crew, jobs: Sequence[Job]) -> CrewRoute | None:
    if crew.capacity is not None and sum(job.demand for job in jobs) > crew.capacity:
        return None
    try:
        return schedule_route(problem, travel, crew_key=crew.key, job_keys=[job.key for job in jobs])
    except RouteInfeasible:
        return None


def workable_route(problem: Problem, travel: TravelMatrices, *, crew: Crew,
                   job_keys: Sequence[str]) -> tuple[CrewRoute, list[str]]:
    """The crew's route for the engine's order, and the jobs that had to be left out to make it
    workable: jobs the crew may not do, then the least urgent (last in the route first) until the
    schedule holds; when leaving out one job is not enough, the least urgent goes and the search goes on."""
    jobs_by_key = {job.key: job for job in problem.jobs}
    jobs = [jobs_by_key[key] for key in job_keys]
    dropped = [job.key for job in jobs if not may_do(crew, job)]
    jobs = [job for job in jobs if may_do(crew, job)]
    while (route := _scheduled(problem, travel, crew, jobs)) is None:
        order = sorted(range(len(jobs)), key=lambda no: (-jobs[no].priority, -no))
        fix = next((no for no in order if _scheduled(problem, travel, crew, jobs[:no] + jobs[no + 1:]) is not None),
                   order[0])
        dropped.append(jobs.pop(fix).key)
    return route, dropped


def solve_plan(problem: Problem, travel: TravelMatrices, *, engine: Engine | None = None, time_limit_s: float,
               seed: int, on_progress: Callable[[float], None] | None = None) -> PlanResult:
    """The day's plan: routes with times and lunch, the unassigned jobs with reasons. Raises
    `PlanInfeasible` if, despite all of that, the independent check finds a broken rule."""
    engine = engine or default_engine()
    assignment = engine.solve(problem, travel, time_limit_s=time_limit_s, seed=seed, on_progress=on_progress)
    routes: list[CrewRoute] = []
    left_out = set(assignment.unassigned)
    for crew in problem.crews:
        route, dropped = workable_route(problem, travel, crew=crew, job_keys=assignment.routes.get(crew.key, ()))
        routes.append(route)
        left_out.update(dropped)
    routed = {stop.job_key for route in routes for stop in route.stops}
    left_out.update(job.key for job in problem.jobs if job.key not in routed)
    unassigned = explain(problem, travel, unassigned=[job.key for job in problem.jobs if job.key in left_out])
    result = PlanResult(routes=tuple(routes), unassigned=unassigned, engine=engine.name, seed=seed,
                        travel_source=travel.source)
    violations = check(problem, travel, result)
    if violations:
        raise PlanInfeasible(violations)
    return result
