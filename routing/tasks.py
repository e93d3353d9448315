"""The route-planning worker's Celery tasks. Each takes an id and opens its own units of work; no
transaction stays open while the solver runs.

Delivery is at least once: `routing.solve_plan` moves a plan from queued to solving and does
nothing for a plan in any other state, so a repeated message solves nothing twice. Whatever goes
wrong ends in `failed` with problem details in `error` (bad input found at solve time: 422 with
the field; our own fault: 500 naming only the exception class), never stuck in `solving`:
`routing.relay` (beat, and at worker start) sends again the plans whose message or worker was lost.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from celery import shared_task
from sqlalchemy import func, or_, select, update

from core.context import bind_request_id
from core.database import unit_of_work
from core.errors import InvalidInput
from core.worker_resources import resources
from routing import solving
from routing.models import PlanKind, PlanState, RoutePlan
from routing.reading_plans import run_rounds
from routing.settings import routing_settings

logger = logging.getLogger(__name__)
# How each kind of plan is solved: (session factory, plan id, Redis URL of the travel cache).
RUNS = {PlanKind.field.value: solving.run_field, PlanKind.meter_reading.value: run_rounds}


def _problem(exc: Exception) -> dict[str, Any]:
    if isinstance(exc, InvalidInput):
        return {"type": "about:blank", "title": exc.title, "status": 422, "detail": exc.detail, "errors": exc.errors}
    return {"type": "about:blank", "title": "Internal error", "status": 500,
            "detail": f"The plan could not be solved ({exc.__class__.__name__}); ask again, or report it."}


@shared_task(name="routing.solve_plan", acks_late=True)
def solve_plan(plan_id: int, request_id: str | None = None) -> str:
    """Solve a queued plan; see the module docstring for what happens on a repeat or a failure."""
    bind_request_id(request_id)
    res = resources()
    with unit_of_work(res.session_factory) as db:
        if not solving.claim(db, plan_id, datetime.now(UTC)):
            return "nothing to do"
    try:
        with unit_of_work(res.session_factory) as db:
            kind = db.scalar(select(RoutePlan.kind).where(RoutePlan.id == plan_id))
        run = RUNS.get(str(kind))
        if run is None:
            raise InvalidInput(f"Plans of kind {kind} are not solved by this worker.")
        run(res.session_factory, plan_id, res.settings.redis.url.get_secret_value() or None)
        return "solved"
    except Exception as exc:  # every failure ends the plan as failed, with its reason
        if not isinstance(exc, InvalidInput):
            logger.exception("route plan %s failed", plan_id)
        with unit_of_work(res.session_factory) as db:
            solving.fail(db, plan_id=plan_id, error=_problem(exc), now=datetime.now(UTC))
        return "failed"


@shared_task(name="routing.relay")
def relay() -> list[int]:
    """Send again the plans whose message was lost (queued for longer than the relay delay) or whose
    worker died (solving for longer than its time limit and the hard margin: put back to queued)."""
    bind_request_id()
    res = resources()
    now = datetime.now(UTC)
    queued_before = now - timedelta(seconds=res.settings.worker.relay_after_s)
    limits = routing_settings(res.settings)
    with unit_of_work(res.session_factory) as db:
        # make_interval(years, months, weeks, days, hours, mins, secs)
        given_up_at = RoutePlan.started_at + func.make_interval(0, 0, 0, 0, 0, 0,
                                                                RoutePlan.time_limit_s + limits.solve_hard_margin_s)
        stale = given_up_at < now
        db.execute(update(RoutePlan).where(RoutePlan.state == PlanState.solving.value, stale)
                   .values(state=PlanState.queued.value, version=RoutePlan.version + 1))
        plans = list(db.execute(select(RoutePlan.id, RoutePlan.time_limit_s).where(
            RoutePlan.state == PlanState.queued.value,
            or_(RoutePlan.started_at.is_not(None), RoutePlan.created_at < queued_before)).order_by(RoutePlan.id)))
    for plan_id, time_limit in plans:
        soft, hard = limits.solve_limits(time_limit)
        solve_plan.apply_async(args=[plan_id, None], soft_time_limit=soft, time_limit=hard)
    if plans:
        logger.warning("relay: route plans %s sent to the solver again", [p for p, _ in plans])
    return [p for p, _ in plans]
