"""What the worker does with a queued field plan, in short transactions around a solve that holds
none: claim it (queued -> solving, only from queued), build the problem again from the stored
request and the travel matrices, solve (or, for a re-plan, insert the urgent jobs one by one),
render, and finish (solved, or failed with problem details). Progress goes to
`route_plans.progress` in its own transactions while the solver runs.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from core.database import unit_of_work
from core.outbox import emit
from routing.models import PlanState, RoutePlan
from routing.plan_input import PlanInput, field_input
from routing.presentation import minutes, result_document
from routing.problem import Point, TravelMatrices, only_jobs
from routing.rest_of_day import rest_of_day
from routing.results import PlanResult
from routing.schemas import RoutePlanIn
from routing.solver.planner import solve_plan
from routing.solver.replan import direct_arrivals, insert_urgent
from routing.travel import build_matrices, route_geometry

# Progress is written when it moved by this much (a row update per tick would be noise).
PROGRESS_STEP = 0.05


def claim(db: Session, plan_id: int, now: datetime) -> bool:
    """queued -> solving; False when the plan is not queued (a repeated delivery does nothing)."""
    plan = db.get(RoutePlan, plan_id, with_for_update=True)
    if plan is None or plan.state != PlanState.queued.value:
        return False
    plan.state, plan.started_at, plan.progress, plan.version = PlanState.solving.value, now, 0.0, plan.version + 1
    return True


def progress_writer(session_factory: sessionmaker[Session], plan_id: int) -> Callable[[float], None]:
    written = [0.0]

    def write(fraction: float) -> None:
        if fraction - written[0] < PROGRESS_STEP and fraction < 1.0:
            return
        written[0] = fraction
        with unit_of_work(session_factory) as db:
            db.execute(update(RoutePlan).where(RoutePlan.id == plan_id, RoutePlan.state == PlanState.solving.value)
                       .values(progress=min(max(fraction, 0.0), 1.0)))

    return write


@dataclasses.dataclass(frozen=True)
class Prepared:
    plan: PlanInput
    travel: TravelMatrices
    urgent_keys: tuple[str, ...]


def prepare(db: Session, *, plan: RoutePlan, redis_url: str | None) -> Prepared:
    """The problem from the stored request (tasks re-read) and its travel matrices."""
    request = plan.request
    if request.get("replan"):
        parent = db.get(RoutePlan, request["replan"]["parent_id"])
        rest = rest_of_day(db=db, request=request, parent_result=(parent.result if parent else None) or {})
        plan_input, urgent = rest.plan, rest.urgent_keys
    else:
        plan_input, urgent = field_input(db=db, body=RoutePlanIn.model_validate(request["body"])), ()
    travel = build_matrices(db, points=plan_input.problem.points(), modes=plan_input.modes(), redis_url=redis_url)
    return Prepared(plan=plan_input, travel=travel, urgent_keys=urgent)


def insert_urgent_jobs(prepared: Prepared, *, time_limit_s: float, seed: int
                       ) -> tuple[PlanResult, list[dict[str, Any]]]:
    """Insert the urgent jobs one by one, most urgent first: each goes where `insert_urgent` puts it
    and stays with that crew member while the next is inserted. Says who got each and why."""
    problem, travel = prepared.plan.problem, prepared.travel
    others = [job.key for job in problem.jobs if job.key not in prepared.urgent_keys]
    chosen: dict[str, str] = {}
    result: PlanResult | None = None
    choices = []
    for n, key in enumerate(prepared.urgent_keys):
        sub_problem, sub_travel = only_jobs(problem, travel, {*others, *prepared.urgent_keys[:n + 1]})
        sub_problem = dataclasses.replace(sub_problem, jobs=tuple(
            dataclasses.replace(job, pinned_to=chosen[job.key]) if job.key in chosen else job
            for job in sub_problem.jobs))
        result, crew = insert_urgent(sub_problem, sub_travel, urgent_key=key, time_limit_s=time_limit_s, seed=seed)
        chosen[key] = crew
        reach, day = direct_arrivals(sub_problem, sub_travel, key), prepared.plan.day
        member = prepared.plan.members[crew]
        travel_s, arrival = reach.get(crew, (0, 0))
        choices.append({"job_key": key, "user_id": member.user_id, "name": member.name,
                        "reach_minutes": {prepared.plan.members[k].user_id: minutes(s) for k, (s, _) in reach.items()},
                        "earliest_arrival": {prepared.plan.members[k].user_id: day.moment(a).isoformat()
                                             for k, (_, a) in reach.items()},
                        "why": f"{member.name} can be there soonest (at {day.moment(arrival):%H:%M}, "
                               f"{minutes(travel_s)} min from where they are) among those with its skills whose "
                               "other timed jobs still fit"})
    assert result is not None
    return result, choices


def solve(prepared: Prepared, *, time_limit_s: float, seed: int,
          on_progress: Callable[[float], None]) -> tuple[PlanResult, dict[str, Any]]:
    if prepared.urgent_keys:
        result, choices = insert_urgent_jobs(prepared, time_limit_s=time_limit_s, seed=seed)
        on_progress(1.0)
        return result, {"urgent": choices}
    return solve_plan(prepared.plan.problem, prepared.travel, time_limit_s=time_limit_s, seed=seed,
                      on_progress=on_progress), {}


Render = Callable[[Session], dict[str, Any]]


def field_document(prepared: Prepared, result: PlanResult, extra: dict[str, Any], solve_seconds: float) -> Render:
    """The result document of a field plan, rendered in the finishing transaction (route geometry
    reads the road network)."""
    def render(db: Session) -> dict[str, Any]:
        def geometry_of(points: Sequence[Point], mode: str) -> dict[str, Any]:
            return route_geometry(db, points=points, mode=mode, source=prepared.travel.source)

        return result_document(plan=prepared.plan, result=result, geometry_of=geometry_of,
                               solve_seconds=solve_seconds, extra=extra)

    return render


def finish(db: Session, *, plan_id: int, render: Render, travel_source: str, now: datetime) -> bool:
    """solving -> solved with the rendered result; False when the plan is no longer solving."""
    plan = db.get(RoutePlan, plan_id, with_for_update=True)
    if plan is None or plan.state != PlanState.solving.value:
        return False
    document = render(db)
    plan.result, plan.state, plan.solved_at, plan.progress = document, PlanState.solved.value, now, 1.0
    plan.travel_source, plan.version, plan.error = travel_source, plan.version + 1, None
    emit(db=db, event_type="route_plan.solved", entity_type="route_plan", entity_id=plan.id,
         payload={"date": plan.plan_date.isoformat(), "routes": len(document["routes"]),
                  "unassigned": len(document["unassigned"]), "travel_source": travel_source})
    return True


def fail(db: Session, *, plan_id: int, error: dict[str, Any], now: datetime) -> None:
    plan = db.get(RoutePlan, plan_id, with_for_update=True)
    if plan is None or plan.state not in (PlanState.queued.value, PlanState.solving.value):
        return
    plan.state, plan.error, plan.solved_at, plan.version = PlanState.failed.value, error, now, plan.version + 1
    emit(db=db, event_type="route_plan.failed", entity_type="route_plan", entity_id=plan.id,
         payload={"date": plan.plan_date.isoformat(), "detail": error.get("detail", "")})


def run_field(session_factory: sessionmaker[Session], plan_id: int, redis_url: str | None) -> None:
    """Solve a claimed field plan: prepare in one transaction, solve in none, finish in another."""
    with unit_of_work(session_factory) as db:
        plan = db.get(RoutePlan, plan_id)
        assert plan is not None
        seed, time_limit = plan.seed, plan.time_limit_s
        prepared = prepare(db, plan=plan, redis_url=redis_url)
    started = time.monotonic()
    result, extra = solve(prepared, time_limit_s=time_limit, seed=seed,
                          on_progress=progress_writer(session_factory, plan_id))
    seconds = time.monotonic() - started
    with unit_of_work(session_factory) as db:
        finish(db, plan_id=plan_id, render=field_document(prepared, result, extra, seconds),
               travel_source=prepared.travel.source, now=datetime.now(UTC))
