"""From a request to the solver's `Problem`, in one place: the API calls it to refuse bad input at
once (422 naming the field, nothing written), and the worker calls it again when it solves (tasks
re-read: one closed meanwhile fails the plan with the same message, rather than planning it).

Besides the problem, a `PlanInput` keeps what the output needs and the solver does not: who each
crew key is, what each job key is (task or ad-hoc ref), and the request field behind each point,
so that a point off the road network is named as the user wrote it (`crews[1].start`, `task_ids[4]`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.errors import InvalidInput
from inspections.workflow import TaskState
from routing.crews import CrewMember, crew_key, crew_members
from routing.jobs import Stop, TaskRow, ad_hoc_job, check_plannable, check_refs, read_tasks, requirements_of, task_job
from routing.plan_day import PlanDay
from routing.problem import Job, Problem
from routing.rules import routing_rules
from routing.schemas import RoutePlanIn
from routing.travel import OffRoadNetwork, check_points


@dataclass(frozen=True)
class PlanInput:
    day: PlanDay
    problem: Problem
    members: dict[str, CrewMember]   # by crew key
    stops: dict[str, Stop]           # by job key
    labels: tuple[str, ...]          # the request field of each point of `problem.points()`

    def modes(self) -> set[str]:
        return {crew.mode for crew in self.problem.crews}


def assemble(*, day: PlanDay, members: Sequence[CrewMember], jobs: Sequence[tuple[Job, Stop, str]],
             crew_labels: Sequence[tuple[str, str]]) -> PlanInput:
    """`jobs`: (job, stop, request field); `crew_labels`: (start field, end field) per member."""
    problem = Problem(origin=day.origin, jobs=tuple(job for job, _, _ in jobs),
                      crews=tuple(member.crew for member in members))
    labels = tuple(label for pair in crew_labels for label in pair) + tuple(label for _, _, label in jobs)
    return PlanInput(day=day, problem=problem, members={m.crew.key: m for m in members},
                     stops={stop.key: stop for _, stop, _ in jobs}, labels=labels)


def check_time_limit(value: float | None, *, field: str = "time_limit_s") -> float:
    rules = routing_rules()
    if value is None:
        return rules.time_limit_s
    if value > rules.max_time_limit_s:
        raise InvalidInput(f"time_limit_s may be at most {rules.max_time_limit_s:g} s.",
                           errors=[{"field": field, "message": f"at most {rules.max_time_limit_s:g}"}])
    return value


def pinned(row: TaskRow, members: Collection[str], keep: Collection[TaskState]) -> str | None:
    """The crew key a task stays with: its assignee's, when the state promises it to them and they are
    in the plan."""
    task = row.task
    if task.assignee_id is None or TaskState(task.state) not in keep:
        return None
    key = crew_key(task.assignee_id)
    return key if key in members else None


def field_input(*, db: Session, body: RoutePlanIn) -> PlanInput:
    """The field plan's problem, or 422 naming the first wrong field. A task already accepted by a
    crew member of the plan stays with them (they promised it); one only assigned may move."""
    if not body.task_ids and not body.jobs:
        raise InvalidInput("Nothing to plan: give task_ids or jobs.",
                           errors=[{"field": "task_ids", "message": "task_ids or jobs required"}])
    check_refs(body.jobs)
    day = PlanDay.of(body.date)
    rows = read_tasks(db, body.task_ids)
    check_plannable(rows)
    members = crew_members(db=db, crews=body.crews, day=day, requirements=requirements_of(rows))
    keys = {m.crew.key for m in members}
    jobs = [(*task_job(row, day, field=f"task_ids[{i}]", pinned_to=pinned(row, keys, {TaskState.accepted})),
             f"task_ids[{i}]") for i, row in enumerate(rows)]
    jobs += [(*ad_hoc_job(spec, day, field=f"jobs[{i}]"), f"jobs[{i}].location") for i, spec in enumerate(body.jobs)]
    crew_labels = [(f"crews[{i}].start", f"crews[{i}].end" if c.end else f"crews[{i}].start")
                   for i, c in enumerate(body.crews)]
    return assemble(day=day, members=members, jobs=jobs, crew_labels=crew_labels)


def checked_source(*, db: Session, plan: PlanInput) -> str:
    """Where travel times will come from ("roads" | "estimate"); a point off the road network is a
    422 naming the request field it came from and how far it lies from the nearest road."""
    try:
        return check_points(db, points=plan.problem.points(), modes=plan.modes())
    except OffRoadNetwork as exc:
        raise off_network(exc, plan.labels) from None


def off_network(exc: OffRoadNetwork, labels: Sequence[str]) -> InvalidInput:
    limit = routing_rules().snap_max_m
    errors, seen = [], set()
    for index, distance in zip(exc.indexes, exc.distances_m, strict=True):
        if labels[index] not in seen:
            seen.add(labels[index])
            errors.append({"field": labels[index],
                           "message": f"{distance:.0f} m from the nearest road (the limit is {limit:g} m)"})
    names = ", ".join(e["field"] for e in errors)
    return InvalidInput(f"Off the road network: {names}. Check the coordinates, or import the roads there.",
                        errors=errors)
