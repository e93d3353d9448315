"""The stops of a field plan: field tasks read from the database and a dispatcher's ad-hoc jobs,
turned into the solver's `Job`s (key `task:<id>` or `job:<ref>`).

A task's place is its location when that is a point; a patrol's line (or an area) is visited at
`ST_PointOnSurface`, a point on the geometry itself (a line's centroid may lie off the line), where
the inspector starts walking it. Its window is its due window clipped to the plan day:
- due within the day: that part of the day;
- due later (the window goes on past the day): any time of the day (done early is done);
- overdue (the window ended before the day): any time of the day, at its own priority;
- not yet due (the window starts after the day): refused, it cannot be done on that day.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.errors import InvalidInput
from inspections.models import FieldTask
from inspections.workflow import TaskState
from routing.crews import point_of, skill_of
from routing.plan_day import PlanDay
from routing.problem import Job, Point, Window
from routing.rules import routing_rules
from routing.schemas import JobIn, first_repeat

# A plan may give these to someone (the `assign` action's source states): not yet begun.
PLANNABLE_STATES = frozenset({TaskState.planned, TaskState.assigned, TaskState.accepted})


def task_key(task_id: int) -> str:
    return f"task:{task_id}"


def job_key(ref: str) -> str:
    return f"job:{ref}"


@dataclass(frozen=True)
class Stop:
    """What a job of the problem is in the product: a task (id, title, state, assignee) or a ref."""

    key: str
    title: str
    task_id: int | None = None
    job_ref: str | None = None
    state: str | None = None
    assignee_id: int | None = None
    started_at: datetime | None = None


@dataclass(frozen=True)
class TaskRow:
    task: FieldTask
    point: Point


def read_tasks(db: Session, task_ids: Sequence[int], *, field: str = "task_ids") -> list[TaskRow]:
    """The tasks in request order, each with the point it is visited at; 422 for an unknown id."""
    spot = func.ST_PointOnSurface(FieldTask.location)
    rows = {task.id: TaskRow(task=task, point=Point(lon=float(lon), lat=float(lat))) for task, lon, lat in
            db.execute(select(FieldTask, func.ST_X(spot), func.ST_Y(spot)).where(FieldTask.id.in_(task_ids)))}
    repeat = first_repeat(task_ids)
    for i, task_id in enumerate(task_ids):  # the first wrong entry in request order is named
        if i == repeat:
            raise InvalidInput(f"Task {task_id} is listed twice.",
                               errors=[{"field": f"{field}[{i}]", "message": "listed twice"}])
        if task_id not in rows:
            raise InvalidInput(f"No task with id {task_id}.", errors=[{"field": f"{field}[{i}]", "message": "unknown task"}])
    return [rows[task_id] for task_id in task_ids]


def check_plannable(rows: Sequence[TaskRow], *, field: str = "task_ids") -> None:
    for i, row in enumerate(rows):
        if TaskState(row.task.state) not in PLANNABLE_STATES:
            raise InvalidInput(f"Task {row.task.id} is {row.task.state}; only planned, assigned or accepted tasks "
                               "are planned.", errors=[{"field": f"{field}[{i}]", "message": f"{row.task.state}"}])


def task_window(task: FieldTask, day: PlanDay, *, field: str) -> Window | None:
    if task.due_from >= day.end:
        raise InvalidInput(f"Task {task.id} is not due before {task.due_from.isoformat()}, after the plan day.",
                           errors=[{"field": field, "message": "not due on the plan day"}])
    if task.due_until < day.origin:
        return None
    start, end = max(0, day.seconds(task.due_from)), min(day.length_s, day.seconds(task.due_until))
    return None if (start, end) == (0, day.length_s) else Window(start, end)


def task_job(row: TaskRow, day: PlanDay, *, field: str, pinned_to: str | None = None) -> tuple[Job, Stop]:
    task = row.task
    job = Job(key=task_key(task.id), point=row.point, service_s=routing_rules().service_s(task.task_type),
              priority=task.priority, window=task_window(task, day, field=field),
              skills=frozenset(skill_of(r) for r in task.required_qualifications), pinned_to=pinned_to)
    return job, Stop(key=job.key, title=task.title or task.task_type, task_id=task.id, state=task.state,
                     assignee_id=task.assignee_id, started_at=task.started_at)


def ad_hoc_job(spec: JobIn, day: PlanDay, *, field: str) -> tuple[Job, Stop]:
    window = None
    if spec.window is not None:
        if spec.window.end < day.origin or spec.window.start > day.end:
            raise InvalidInput(f"Job {spec.ref!r}: its window is not on the plan day {day.day}.",
                               errors=[{"field": f"{field}.window", "message": "not on the plan day"}])
        window = Window(day.seconds(day.clip(spec.window.start)), day.seconds(day.clip(spec.window.end)))
    minutes = spec.service_minutes if spec.service_minutes is not None else routing_rules().service_minutes_default
    job = Job(key=job_key(spec.ref), point=point_of(spec.location), service_s=round(60 * minutes),
              priority=spec.priority, window=window, skills=frozenset(spec.skills))
    return job, Stop(key=job.key, title=spec.ref, job_ref=spec.ref)


def check_refs(jobs: Sequence[JobIn], *, field: str = "jobs") -> None:
    refs = [job.ref for job in jobs]
    if (i := first_repeat(refs)) is not None:
        raise InvalidInput(f"Job ref {refs[i]!r} is used twice.", errors=[{"field": f"{field}[{i}].ref",
                                                                            "message": "duplicate ref"}])


def requirements_of(rows: Sequence[TaskRow]) -> list[Mapping[str, Any]]:
    """The distinct qualification requirements of these tasks (what each crew member is checked for)."""
    found: dict[str, Mapping[str, Any]] = {}
    for row in rows:
        for requirement in row.task.required_qualifications:
            found.setdefault(skill_of(requirement), requirement)
    return list(found.values())
