"""Publishing a solved plan, and the published route a crew member's device shows.

Publishing is one transaction: each planned task is assigned to its crew member through
`inspections.service.act(assign)` (qualification-gated there) unless it is theirs already; the
stops are written to `route_stops`, replacing what those people had for that day from earlier plans
(an earlier plan left without stops is `superseded`); audited and announced. Any refusal writes
nothing and is a 409 naming the task and the person.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from core.audit import service as audit_service
from core.context import Actor
from core.errors import Conflict, GridWardenError, PermissionDenied, StaleVersion
from core.outbox import emit
from core.permissions import has_permission
from inspections import service as task_service
from inspections.models import FieldTask
from inspections.workflow import TaskAction, TaskState
from routing.models import PlanState, RoutePlan, RouteStop
from routing.permissions import ROUTES_PLAN
from routing.presentation import plan_out
from routing.schemas import MyRouteOut, MyStopOut, RoutePlanOut
from routing.service import get_plan

# A task in one of these states with its assignee is that person's already (a re-plan keeps work sent
# back for correction with them): publishing leaves it as it is rather than assigning it again.
ALREADY_THEIRS = frozenset({TaskState.assigned.value, TaskState.accepted.value, TaskState.sent_back.value})


def _assign(db: Session, *, actor: Actor, now: datetime, task_id: int, user_id: int, name: str) -> None:
    task = db.get(FieldTask, task_id)
    if task is not None and task.assignee_id == user_id and task.state in ALREADY_THEIRS:
        return
    try:
        task_service.act(db=db, actor=actor, now=now, task_id=task_id, action=TaskAction.assign,
                         expected_version=None, assignee_id=user_id)
    except GridWardenError as exc:
        raise Conflict(f"Task {task_id} cannot be given to {name}: {exc.detail} Nothing was published; re-plan.",
                       task_id=task_id, user_id=user_id) from None


def _replace_stops(db: Session, *, plan: RoutePlan, people_days: set[tuple[int, date]]) -> list[int]:
    """Drop those people's stops of those days from earlier plans; the earlier plans left with none
    are superseded (their ids)."""
    earlier: set[int] = set()
    for user_id, day in sorted(people_days):
        mine = (RouteStop.user_id == user_id, RouteStop.day == day)
        earlier |= set(db.scalars(select(RouteStop.plan_id).where(*mine)))
        db.execute(delete(RouteStop).where(*mine))
    superseded = []
    for plan_id in sorted(earlier - {plan.id}):
        if not db.scalar(select(exists().where(RouteStop.plan_id == plan_id))):
            old = get_plan(db, plan_id, for_update=True)
            old.state, old.version = PlanState.superseded.value, old.version + 1
            superseded.append(plan_id)
    return superseded


def _day_of(plan: RoutePlan, route: dict[str, Any]) -> date:
    """A route's day: its own (a reading window's rounds span days), else the plan's."""
    return date.fromisoformat(route["date"]) if route.get("date") else plan.plan_date


def publish(*, db: Session, actor: Actor, now: datetime, plan_id: int, expected_version: int) -> RoutePlanOut:
    plan = get_plan(db, plan_id, for_update=True)
    if plan.version != expected_version:
        raise StaleVersion(f"Plan {plan_id} changed meanwhile (now version {plan.version}, you sent "
                           f"{expected_version}); reload it.", current_version=plan.version)
    if plan.state != PlanState.solved.value or plan.result is None:
        raise Conflict(f"Plan {plan_id} is {plan.state}; only a solved plan is published.")
    routes = [route for route in plan.result["routes"] if route["stops"]]
    for route in routes:
        for stop in route["stops"]:
            if stop["task_id"] is not None:
                _assign(db, actor=actor, now=now, task_id=stop["task_id"], user_id=route["user_id"],
                        name=route["name"])
    superseded = _replace_stops(db, plan=plan, people_days={(route["user_id"], _day_of(plan, route))
                                                            for route in plan.result["routes"]})
    for route in routes:
        for stop in route["stops"]:
            db.add(RouteStop(plan_id=plan.id, user_id=route["user_id"], day=_day_of(plan, route),
                             position=stop["position"], task_id=stop["task_id"], customer_id=stop.get("customer_id"),
                             job_ref=stop["job_ref"],
                             planned_arrival=datetime.fromisoformat(stop["arrival"]),
                             planned_start=datetime.fromisoformat(stop["start"]),
                             planned_departure=datetime.fromisoformat(stop["departure"]), note=stop["title"]))
    before = {"state": plan.state, "version": plan.version}
    plan.state, plan.published_at, plan.published_by_id = PlanState.published.value, now, actor.user_id
    plan.version += 1
    db.flush()
    stops = sum(len(route["stops"]) for route in routes)
    audit_service.record(db=db, actor=actor, action="route_plan.publish", entity_type="route_plan",
                         entity_id=plan.id, before=before,
                         after={"state": plan.state, "version": plan.version, "stops": stops,
                                "superseded": superseded})
    emit(db=db, event_type="route_plan.published", entity_type="route_plan", entity_id=plan.id,
         payload={"date": plan.plan_date.isoformat(), "user_ids": [r["user_id"] for r in routes], "stops": stops,
                  "superseded": superseded})
    return plan_out(plan)


def my_route(*, db: Session, actor: Actor, day: date, user_id: int | None) -> MyRouteOut:
    """The caller's published stops of `day` in order (a planner may name someone else). Places are
    the plan's (where the stop was planned: a patrol's point on its line, an ad-hoc job's place)."""
    who = actor.user_id if user_id is None else user_id
    if who is None or (who != actor.user_id and not has_permission(actor.role, ROUTES_PLAN)):
        raise PermissionDenied("An inspector sees only their own route.")
    stops = list(db.scalars(select(RouteStop).where(RouteStop.user_id == who, RouteStop.day == day)
                            .order_by(RouteStop.position)))
    if not stops:
        return MyRouteOut(user_id=who, date=day, plan_id=None, plan_version=None, stops=[])
    # Publishing replaces a person's whole day, so the stops are one plan's: its document is read once.
    version, result = db.execute(select(RoutePlan.version, RoutePlan.result)
                                 .where(RoutePlan.id == stops[0].plan_id)).one()
    places = planned_places(result, user_id=who, day=day)
    return MyRouteOut(user_id=who, date=day, plan_id=stops[0].plan_id, plan_version=version,
                      stops=[stop_out(stop, places.get(stop.position, {})) for stop in stops])


def planned_places(result: dict[str, Any] | None, *, user_id: int, day: date) -> dict[int, dict[str, Any]]:
    """position -> the stop's GeoJSON point in a plan's result, for one person's day."""
    return {stop["position"]: stop["location"] for route in (result or {}).get("routes", [])
            if route["user_id"] == user_id and route.get("date", day.isoformat()) == day.isoformat()
            for stop in route["stops"]}


def stop_out(stop: RouteStop, location: dict[str, Any]) -> MyStopOut:
    return MyStopOut(position=stop.position, task_id=stop.task_id, customer_id=stop.customer_id, job_ref=stop.job_ref,
                     title=stop.note, location=location, planned_arrival=stop.planned_arrival,
                     planned_start=stop.planned_start, planned_departure=stop.planned_departure)
