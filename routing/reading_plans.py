"""Meter-reading plans: a reading window's rounds (issue 12 §1), asked for like a field plan and
solved by the same worker. The stops and readers come from the reading books
(`routing.reading_problem`), the rounds from `routing.rounds.plan_rounds` (balanced areas and days,
each round sequenced); the result has one route per reader and day, with its `date`, so that
publishing puts each round on its reader's device on its day."""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.database import unit_of_work
from core.users.models import User
from routing.crews import point_of, user_of
from routing.models import RoutePlan
from routing.plan_day import PlanDay
from routing.plan_input import off_network
from routing.presentation import GeometryOf, RouteContext, minutes, route_document, totals
from routing.problem import Point, TravelMatrices
from routing.reading_problem import ReadingInput, reading_stops
from routing.rounds import RoundsResult, plan_rounds
from routing.schemas import ReadingPlanIn
from routing.solving import finish, progress_writer
from routing.travel import OffRoadNetwork, build_matrices, check_points, route_geometry


def reading_input(db: Session, body: ReadingPlanIn) -> ReadingInput:
    """The window's stops and readers, or 422 naming an unknown book, reader or a bad period."""
    return reading_stops(db, period=body.period, book_ids=body.book_ids, reader_ids=body.reader_ids,
                         depot=point_of(body.depot) if body.depot else None)


def customer_id(key: str) -> int:
    return int(key.removeprefix("customer:"))


def checked_reading_source(db: Session, reading: ReadingInput) -> str:
    """Where travel will come from; a customer or a start off the road network is a 422 naming it."""
    points = [*(p for r in reading.readers for p in (r.start, r.end)), *(s.point for s in reading.stops)]
    labels = [*(label for n in range(len(reading.readers)) for label in (f"reader_ids[{n}]",) * 2),
              *(f"customers.{customer_id(s.key)}" for s in reading.stops)]
    try:
        return check_points(db, points=points, modes={r.mode for r in reading.readers})
    except OffRoadNetwork as exc:
        raise off_network(exc, labels) from None


def _customer_ref(key: str) -> dict[str, Any]:
    return {"job_key": key, "task_id": None, "customer_id": customer_id(key), "job_ref": None,
            "title": f"Meter of customer {customer_id(key)}"}


def rounds_document(db: Session, *, reading: ReadingInput, result: RoundsResult, seed: int,
                    solve_seconds: float) -> dict[str, Any]:
    names = {u.id: u.full_name or u.username for u in db.scalars(
        select(User).where(User.id.in_([user_of(r.key) for r in reading.readers])))}
    readers = {r.key: r for r in reading.readers}
    stops = {s.key: s for s in reading.stops}

    def geometry_of(points: Sequence[Point], mode: str) -> dict[str, Any]:
        return route_geometry(db, points=points, mode=mode, source=result.travel_source)

    draw: GeometryOf = geometry_of
    routes = [route_document(RouteContext(day=PlanDay.of(reading.origin_days[r.day_no].date()),
                                          user_id=user_of(r.reader_key), name=names[user_of(r.reader_key)],
                                          crew=readers[r.reader_key], jobs=stops, refs=_customer_ref), r.route, draw)
              for r in result.rounds]
    return {"kind": "meter_reading", "period": reading.period,
            "days": [day.date().isoformat() for day in reading.origin_days],
            "travel_source": result.travel_source, "estimate": result.travel_source != "roads", "seed": seed,
            "solve_seconds": round(solve_seconds, 2), "routes": routes,
            "unassigned": [{**_customer_ref(u.job_key), "reason": str(u.reason), "detail": u.detail}
                           for u in result.unassigned],
            "balance": result.balance, "totals": totals([r.route for r in result.rounds]),
            "work_minutes_by_reader": {str(user_of(key)): minutes(sum(r.route.work_s for r in result.rounds
                                                                      if r.reader_key == key)) for key in readers}}


def run_rounds(session_factory: sessionmaker[Session], plan_id: int, redis_url: str | None) -> None:
    """Solve a claimed meter-reading plan; travel matrices are built in their own short transactions."""
    with unit_of_work(session_factory) as db:
        plan = db.get(RoutePlan, plan_id)
        assert plan is not None
        seed, time_limit = plan.seed, plan.time_limit_s
        reading = reading_input(db, ReadingPlanIn.model_validate(plan.request["body"]))

    def travel_for(points: Sequence[Point], modes: Collection[str]) -> TravelMatrices:
        with unit_of_work(session_factory) as db:
            return build_matrices(db, points=points, modes=modes, redis_url=redis_url)

    started = time.monotonic()
    result = plan_rounds(origin_days=reading.origin_days, stops=reading.stops, readers=reading.readers,
                         travel_for=travel_for, time_limit_s=time_limit, seed=seed,
                         on_progress=progress_writer(session_factory, plan_id))
    seconds = time.monotonic() - started
    with unit_of_work(session_factory) as db:
        finish(db, plan_id=plan_id, travel_source=result.travel_source, now=datetime.now(UTC),
               render=lambda db: rounds_document(db, reading=reading, result=result, seed=seed,
                                                 solve_seconds=seconds))
