"""Plans as the API sees them: ask for one (checked at once, solved by the worker), read, list, the
map's features, and a re-plan of a published one. Keyword-only functions on the caller's unit of
work; the solve job is queued only after the commit (`core.database.after_commit`), so the worker
never looks for a plan that is not there.

`route_plans.request` keeps the validated request (`{"kind", "body", "replan"?}`) from which the
worker builds the problem again; the same `uuid` sent again with the same body answers the first
plan (200), with another body it is a 409 naming the uuid.
"""

from __future__ import annotations

import logging
import uuid as uuid_module
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from celery import Celery
from kombu.exceptions import KombuError
from pydantic import BaseModel
from redis.exceptions import RedisError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit import service as audit_service
from core.context import Actor, current_request_id
from core.database import after_commit
from core.errors import Conflict, InvalidInput, NotFound
from core.settings import Settings
from routing.models import PlanKind, PlanState, RoutePlan
from routing.plan_input import check_time_limit, checked_source, field_input
from routing.presentation import features, plan_out
from routing.reading_plans import checked_reading_source, reading_input
from routing.rest_of_day import rest_of_day_input
from routing.rules import routing_rules
from routing.schemas import ReadingPlanIn, RePlanIn, RoutePlanIn, RoutePlanOut
from routing.settings import routing_settings

logger = logging.getLogger(__name__)

SOLVE_TASK = "routing.solve_plan"


@dataclass(frozen=True)
class Asked:
    plan: RoutePlanOut
    created: bool  # False: the same uuid and body again, answered with the first plan


def _body(body: BaseModel) -> dict[str, Any]:
    return body.model_dump(mode="json", exclude={"uuid"})


def _same_uuid(db: Session, plan_uuid: uuid_module.UUID | None, request: dict[str, Any]) -> RoutePlan | None:
    if plan_uuid is None:
        return None
    # Two requests with the same uuid at once: the second waits for the first, then answers its plan.
    db.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(f"route_plan:{plan_uuid}", 0))))
    earlier = db.scalar(select(RoutePlan).where(RoutePlan.uuid == plan_uuid))
    if earlier is not None and earlier.request != request:
        raise Conflict(f"Plan {plan_uuid} was asked for with a different request; a new plan needs a new uuid.",
                       uuid=str(plan_uuid))
    return earlier


def enqueue_solve(*, celery: Celery, settings: Settings, plan_id: int, time_limit_s: float) -> bool:
    """Send a committed plan to the worker (an after-commit callback). A broker failure does not fail
    the request: the plan stays queued and the relay (`routing.relay`) sends it."""
    soft, hard = routing_settings(settings).solve_limits(time_limit_s)
    try:
        celery.send_task(SOLVE_TASK, args=[plan_id, current_request_id()], soft_time_limit=soft, time_limit=hard)
    except (KombuError, RedisError, OSError) as exc:
        logger.warning("route plan %s could not be queued now (%s); the relay will send it", plan_id,
                       exc.__class__.__name__)
        return False
    return True


def _new_plan(db: Session, *, celery: Celery, settings: Settings, actor: Actor, kind: PlanKind, plan_date: date, request: dict[str, Any],
              plan_uuid: uuid_module.UUID | None, seed: int | None, time_limit_s: float, travel_source: str | None,
              parent_id: int | None = None) -> RoutePlan:
    plan = RoutePlan(uuid=plan_uuid or uuid_module.uuid4(), kind=kind.value, state=PlanState.queued.value, version=1,
                     plan_date=plan_date, request=request, seed=routing_rules().default_seed if seed is None else seed,
                     time_limit_s=time_limit_s, progress=0.0, travel_source=travel_source, parent_id=parent_id,
                     created_by_id=actor.user_id)
    db.add(plan)
    db.flush()
    audit_service.record(db=db, actor=actor, action="route_plan.create", entity_type="route_plan", entity_id=plan.id,
                         before=None, after={"kind": plan.kind, "date": plan_date.isoformat(), "parent_id": parent_id})
    plan_id, limit = plan.id, plan.time_limit_s
    after_commit(db, lambda: enqueue_solve(celery=celery, settings=settings, plan_id=plan_id, time_limit_s=limit))
    return plan


def ask_for_plan(*, db: Session, celery: Celery, settings: Settings, actor: Actor, body: RoutePlanIn) -> Asked:
    """`POST /route-plans`: checked now (422 naming the field, nothing written), solved by the worker."""
    request = {"kind": PlanKind.field.value, "body": _body(body)}
    if (earlier := _same_uuid(db, body.uuid, request)) is not None:
        return Asked(plan_out(earlier), created=False)
    time_limit = check_time_limit(body.time_limit_s)
    plan_input = field_input(db=db, body=body)
    source = checked_source(db=db, plan=plan_input)
    plan = _new_plan(db, celery=celery, settings=settings, actor=actor, kind=PlanKind.field, plan_date=body.date, request=request,
                     plan_uuid=body.uuid, seed=body.seed, time_limit_s=time_limit, travel_source=source)
    return Asked(plan_out(plan), created=True)


def ask_for_rounds(*, db: Session, celery: Celery, settings: Settings, actor: Actor, body: ReadingPlanIn) -> Asked:
    """`POST /route-plans/meter-reading`: a reading window's rounds, checked now, solved by the worker."""
    request = {"kind": PlanKind.meter_reading.value, "body": _body(body)}
    if (earlier := _same_uuid(db, body.uuid, request)) is not None:
        return Asked(plan_out(earlier), created=False)
    time_limit = check_time_limit(body.time_limit_s)
    reading = reading_input(db, body)
    source = checked_reading_source(db, reading)
    plan = _new_plan(db, celery=celery, settings=settings, actor=actor, kind=PlanKind.meter_reading,
                     plan_date=reading.origin_days[0].date(), request=request, plan_uuid=body.uuid, seed=body.seed,
                     time_limit_s=time_limit, travel_source=source)
    return Asked(plan_out(plan), created=True)


def get_plan(db: Session, plan_id: int, *, for_update: bool = False) -> RoutePlan:
    stmt = select(RoutePlan).where(RoutePlan.id == plan_id).execution_options(populate_existing=True)
    plan = db.scalar(stmt.with_for_update() if for_update else stmt)
    if plan is None:
        raise NotFound(f"No route plan with id {plan_id}.")
    return plan


def read_plan(*, db: Session, plan_id: int) -> RoutePlanOut:
    return plan_out(get_plan(db, plan_id))


def plan_features(*, db: Session, plan_id: int) -> dict[str, Any]:
    return features(get_plan(db, plan_id).result)


def list_plans(*, db: Session, plan_date: date | None, state: PlanState | None, after_id: int | None,
               limit: int) -> list[RoutePlanOut]:
    """Newest last, keyset-paged by id like the other lists."""
    stmt = select(RoutePlan).order_by(RoutePlan.id).limit(limit)
    if plan_date is not None:
        stmt = stmt.where(RoutePlan.plan_date == plan_date)
    if state is not None:
        stmt = stmt.where(RoutePlan.state == state.value)
    if after_id is not None:
        stmt = stmt.where(RoutePlan.id > after_id)
    return [plan_out(plan) for plan in db.scalars(stmt)]


def ask_for_replan(*, db: Session, celery: Celery, settings: Settings, actor: Actor, now: datetime, plan_id: int,
                   body: RePlanIn) -> RoutePlanOut:
    """`POST /route-plans/{id}/replan`: the rest of a published field plan's day as a new plan
    (`parent_id`), queued; the worker builds it from what is done, under way and promised by then."""
    parent = get_plan(db, plan_id)
    if parent.kind != PlanKind.field.value or parent.state != PlanState.published.value:
        raise Conflict(f"Plan {plan_id} is {parent.kind}, {parent.state}: only a published field plan is re-planned.")
    at = body.at or now
    members = {str(member["user_id"]) for member in parent.request["body"]["crews"]}
    for user_id in body.positions:
        if user_id not in members:
            raise InvalidInput(f"User {user_id} is not in plan {plan_id}'s crew.",
                               errors=[{"field": f"positions.{user_id}", "message": "not in the plan's crew"}])
    replan = {**body.model_dump(mode="json"), "at": at.isoformat(), "parent_id": parent.id}
    request = {"kind": PlanKind.field.value, "body": parent.request["body"], "replan": replan}
    # Checked now like a new plan: unknown or finished urgent tasks, off-network places (422).
    plan_input = rest_of_day_input(db=db, request=request, parent_result=parent.result or {})
    source = checked_source(db=db, plan=plan_input)
    plan = _new_plan(db, celery=celery, settings=settings, actor=actor, kind=PlanKind.field, plan_date=parent.plan_date, request=request,
                     plan_uuid=None, seed=parent.seed, time_limit_s=parent.time_limit_s, travel_source=source,
                     parent_id=parent.id)
    return plan_out(plan)
