"""How a solved plan reads: the `route_plans.result` document (routes per crew member with ISO
local times, minutes and metres, lunch, totals, GeoJSON geometry; unassigned jobs with the reason;
where travel times came from), the map console's FeatureCollection, and the plan row as the API
returns it. Times are local ISO 8601 with the offset; durations in minutes (one decimal)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from routing.models import RoutePlan
from routing.plan_day import PlanDay
from routing.plan_input import PlanInput
from routing.problem import Crew, Job, Point
from routing.results import CrewRoute, PlanResult
from routing.schemas import RoutePlanOut

# (points in visiting order, travel mode) -> GeoJSON LineString (`routing.travel.route_geometry`).
GeometryOf = Callable[[Sequence[Point], str], dict[str, Any]]


def minutes(seconds: int) -> float:
    return round(seconds / 60, 1)


def geojson_point(point: Point) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [point.lon, point.lat]}


def _stop_ref(plan: PlanInput, key: str) -> dict[str, Any]:
    stop = plan.stops[key]
    return {"job_key": key, "task_id": stop.task_id, "customer_id": None, "job_ref": stop.job_ref,
            "title": stop.title}


@dataclass(frozen=True)
class RouteContext:
    """What one route's document needs besides the solver's route: the day its seconds count on,
    who drives it, where each job is, and what each job is in the product (`refs`)."""

    day: PlanDay
    user_id: int
    name: str
    crew: Crew
    jobs: Mapping[str, Job]
    refs: Callable[[str], dict[str, Any]]


def route_document(context: RouteContext, route: CrewRoute, geometry_of: GeometryOf) -> dict[str, Any]:
    day, jobs, crew = context.day, context.jobs, context.crew
    stops = [{"position": n, **context.refs(stop.job_key), "location": geojson_point(jobs[stop.job_key].point),
              "arrival": day.moment(stop.arrival).isoformat(), "start": day.moment(stop.start).isoformat(),
              "departure": day.moment(stop.departure).isoformat(), "wait_minutes": minutes(stop.wait_s),
              "travel_minutes": minutes(stop.travel_s), "travel_m": stop.travel_m}
             for n, stop in enumerate(route.stops, start=1)]
    lunch = None if route.lunch is None else {
        "start": day.moment(route.lunch.start).isoformat(), "end": day.moment(route.lunch.end).isoformat(),
        "after_job": route.lunch.after_job}
    path = [crew.start, *(jobs[stop.job_key].point for stop in route.stops), crew.end]
    return {"user_id": context.user_id, "name": context.name, "date": day.day.isoformat(), "crew_key": crew.key,
            "mode": crew.mode, "leave_start": day.moment(route.leave_start).isoformat(),
            "return_end": day.moment(route.return_end).isoformat(), "stops": stops, "lunch": lunch,
            "totals": totals([route]), "geometry": geometry_of(path, crew.mode) if route.stops else None}


def _field_route(plan: PlanInput, route: CrewRoute, geometry_of: GeometryOf) -> dict[str, Any]:
    member = plan.members[route.crew_key]
    context = RouteContext(day=plan.day, user_id=member.user_id, name=member.name, crew=member.crew,
                           jobs={job.key: job for job in plan.problem.jobs}, refs=lambda key: _stop_ref(plan, key))
    return route_document(context, route, geometry_of)


def totals(routes: Sequence[CrewRoute]) -> dict[str, Any]:
    used = [r for r in routes if r.stops]
    return {"stops": sum(len(r.stops) for r in routes), "travel_minutes": minutes(sum(r.travel_s for r in used)),
            "travel_m": sum(r.travel_m for r in used), "service_minutes": minutes(sum(r.service_s for r in used)),
            "wait_minutes": minutes(sum(r.wait_s for r in used)), "work_minutes": minutes(sum(r.work_s for r in used))}


def result_document(*, plan: PlanInput, result: PlanResult, geometry_of: GeometryOf, solve_seconds: float,
                    extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The `route_plans.result` JSON of a solved field plan."""
    return {"date": plan.day.day.isoformat(), "travel_source": result.travel_source,
            "estimate": result.travel_source != "roads", "engine": result.engine, "seed": result.seed,
            "solve_seconds": round(solve_seconds, 2),
            "routes": [_field_route(plan, route, geometry_of) for route in result.routes],
            "unassigned": [{**_stop_ref(plan, u.job_key), "reason": str(u.reason), "detail": u.detail}
                           for u in result.unassigned],
            "totals": totals(result.routes), **(extra or {})}


def features(result: dict[str, Any] | None) -> dict[str, Any]:
    """One LineString per route and one Point per stop, for the map console (empty before solving)."""
    items: list[dict[str, Any]] = []
    for route in (result or {}).get("routes", []):
        if route.get("geometry"):
            items.append({"type": "Feature", "geometry": route["geometry"],
                          "properties": {"kind": "route", "user_id": route["user_id"], "name": route["name"],
                                         **route["totals"]}})
        for stop in route["stops"]:
            items.append({"type": "Feature", "geometry": stop["location"],
                          "properties": {"kind": "stop", "user_id": route["user_id"],
                                         **{k: v for k, v in stop.items() if k != "location"}}})
    return {"type": "FeatureCollection", "features": items}


def plan_out(plan: RoutePlan) -> RoutePlanOut:
    return RoutePlanOut(id=plan.id, uuid=plan.uuid, kind=plan.kind, state=plan.state, version=plan.version,
                        date=plan.plan_date, progress=plan.progress, travel_source=plan.travel_source, seed=plan.seed,
                        time_limit_s=plan.time_limit_s, parent_id=plan.parent_id, created_by_id=plan.created_by_id,
                        created_at=plan.created_at, started_at=plan.started_at, solved_at=plan.solved_at,
                        published_at=plan.published_at, result=plan.result, error=plan.error)
