"""The rest of a published plan's day, as a new problem (re-planning around urgent work, issue 12 §1).

From the moment `at`:
- tasks submitted, approved, closed or cancelled are done: left out;
- a task in progress is under way: its crew member starts from its place, free at the later of
  `at` and its start plus its time on site; the task itself is left out;
- tasks assigned or accepted (and sent back: in the inspector's hands) stay with their person
  (`pinned_to`); planned ones go to whoever fits;
- each crew member is where the request says (`positions`), else at their latest GPS position if
  it is recent (`replan.recent_position_minutes` in routing.json), else at their last done stop of the parent plan, else at
  their start; nobody is planned before `at`, and a lunch whose window has passed is dropped;
- the urgent tasks and jobs are in the problem; `urgent_keys` lists them, most urgent first (the
  order they are inserted in, one by one, by `routing.solver.replan.insert_urgent`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from core.context import Actor
from inspections.sync.positions import latest_positions
from inspections.workflow import TaskState
from routing.crews import CrewMember, crew_key, crew_members, point_of
from routing.jobs import ad_hoc_job, check_plannable, check_refs, read_tasks, requirements_of, task_job
from routing.plan_day import PlanDay
from routing.plan_input import PlanInput, assemble, pinned
from routing.problem import Crew, Point
from routing.rules import routing_rules
from routing.schemas import RePlanIn, RoutePlanIn

DONE_STATES = frozenset({TaskState.submitted, TaskState.approved, TaskState.closed, TaskState.cancelled})
KEPT_WITH_ASSIGNEE = frozenset({TaskState.assigned, TaskState.accepted, TaskState.sent_back})

@dataclasses.dataclass(frozen=True)
class RestOfDay:
    plan: PlanInput
    urgent_keys: tuple[str, ...]
    at: datetime


def _last_done_places(parent_result: Mapping[str, Any], done: set[int]) -> dict[int, Point]:
    places: dict[int, Point] = {}
    for route in parent_result.get("routes", []):
        for stop in route["stops"]:
            if stop.get("task_id") in done:
                lon, lat = stop["location"]["coordinates"]
                places[route["user_id"]] = Point(lon=lon, lat=lat)
    return places


def _gps_places(db: Session, at: datetime) -> dict[int, Point]:
    found = latest_positions(db=db, actor=Actor.system("routing"), now=at)
    return {p.user_id: Point(lon=p.lon, lat=p.lat) for p in found
            if timedelta(0) <= at - p.server_time <= timedelta(seconds=routing_rules().recent_position_s)}


def _moved(crew: Crew, *, place: Point, free_at: int) -> Crew:
    start = min(max(crew.shift_start, free_at), crew.shift_end)  # past the shift: a day with no time left
    lunch = crew.lunch
    if lunch is not None:
        lunch = None if lunch.window.end < start else dataclasses.replace(
            lunch, window=dataclasses.replace(lunch.window, start=max(lunch.window.start, start)))
    return dataclasses.replace(crew, start=place, shift_start=start, lunch=lunch)


def rest_of_day_input(*, db: Session, request: Mapping[str, Any], parent_result: Mapping[str, Any]) -> PlanInput:
    return rest_of_day(db=db, request=request, parent_result=parent_result).plan


def rest_of_day(*, db: Session, request: Mapping[str, Any], parent_result: Mapping[str, Any]) -> RestOfDay:
    body = RoutePlanIn.model_validate(request["body"])
    replan_fields = {k: v for k, v in request["replan"].items() if k != "parent_id"}
    replan = RePlanIn.model_validate(replan_fields)
    assert replan.at is not None  # the service fills it in
    day = PlanDay.of(body.date)
    at_s = day.seconds(day.clip(replan.at))
    check_refs(replan.urgent_jobs, field="urgent_jobs")
    urgent_rows = read_tasks(db, replan.urgent_task_ids, field="urgent_task_ids")
    check_plannable(urgent_rows, field="urgent_task_ids")
    urgent_ids = set(replan.urgent_task_ids)
    rows = [row for row in read_tasks(db, body.task_ids) if row.task.id not in urgent_ids]
    members = crew_members(db=db, crews=body.crews, day=day, requirements=requirements_of([*rows, *urgent_rows]))
    keys = {m.crew.key for m in members}

    under_way: dict[str, tuple[Point, int]] = {}
    for row in rows:
        task = row.task
        if task.state == TaskState.in_progress and task.assignee_id is not None:
            started = day.seconds(task.started_at) if task.started_at else at_s
            ends = started + routing_rules().service_s(task.task_type)
            under_way[crew_key(task.assignee_id)] = (row.point, max(at_s, ends))
    done = {row.task.id for row in rows if TaskState(row.task.state) in DONE_STATES}
    last_done, gps = _last_done_places(parent_result, done), _gps_places(db, replan.at)
    moved: list[CrewMember] = []
    for member in members:
        given = replan.positions.get(str(member.user_id))
        place, free_at = under_way.get(member.crew.key, (None, at_s))
        place = (point_of(given) if given else place or gps.get(member.user_id)
                 or last_done.get(member.user_id) or member.crew.start)
        moved.append(dataclasses.replace(member, crew=_moved(member.crew, place=place, free_at=free_at)))

    open_rows = [(i, row) for i, row in enumerate(rows)
                 if TaskState(row.task.state) not in DONE_STATES and row.task.state != TaskState.in_progress]
    jobs = [(*task_job(row, day, field=f"task_ids[{i}]", pinned_to=pinned(row, keys, KEPT_WITH_ASSIGNEE)),
             f"task_ids[{i}]") for i, row in open_rows]
    urgent = [(*task_job(row, day, field=f"urgent_task_ids[{i}]"), f"urgent_task_ids[{i}]")
              for i, row in enumerate(urgent_rows)]
    urgent += [(*ad_hoc_job(spec, day, field=f"urgent_jobs[{i}]"), f"urgent_jobs[{i}].location")
               for i, spec in enumerate(replan.urgent_jobs)]
    urgent.sort(key=lambda item: item[0].priority)  # stable: request order among equals
    crew_labels = [(f"positions.{c.user_id}" if str(c.user_id) in replan.positions else f"crews[{i}].start",
                    f"crews[{i}].end" if c.end else f"crews[{i}].start") for i, c in enumerate(body.crews)]
    plan = assemble(day=day, members=moved, jobs=[*jobs, *urgent], crew_labels=crew_labels)
    return RestOfDay(plan=plan, urgent_keys=tuple(job.key for job, _, _ in urgent), at=replan.at)

