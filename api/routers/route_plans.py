"""Route plans at /route-plans and the published route at /my/route (issue 12). Thin: each operation
is one call into `routing.service` or `routing.publish`; this module sets status codes and headers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status

from api.dependencies import AppSettings, CeleryApp, DbSession, ExpectedVersion, Now, Page, next_cursor, require
from api.http import etag
from core.bounds import DbId, IsoDate
from core.context import Actor
from routing import publish, service
from routing.models import PlanState
from routing.permissions import ROUTES_PLAN, ROUTES_READ_OWN
from routing.schemas import MyRouteOut, ReadingPlanIn, RePlanIn, RoutePlanIn, RoutePlanOut, RoutePlanPage

router = APIRouter(tags=["route planning"])
Planner = Annotated[Actor, Depends(require(ROUTES_PLAN))]
RouteReader = Annotated[Actor, Depends(require(ROUTES_READ_OWN))]
PLANS = "/route-plans"


def _plan(out: RoutePlanOut, response: Response, *, created: bool = False) -> RoutePlanOut:
    response.headers["ETag"] = etag(out.version)
    if created:
        response.headers["Location"] = f"/api/v1{PLANS}/{out.id}"
    return out


def _asked(asked: service.Asked, response: Response) -> RoutePlanOut:
    """202 for a plan queued now; 200 for the same uuid and body again (the first plan, as it is now)."""
    if not asked.created:
        response.status_code = status.HTTP_200_OK
    return _plan(asked.plan, response, created=True)


@router.post(PLANS, response_model=RoutePlanOut, status_code=status.HTTP_202_ACCEPTED,
             summary="Ask for a day's routes (checked now, solved by the worker); the same uuid again: 200")
def ask_for_plan(body: RoutePlanIn, db: DbSession, actor: Planner, celery: CeleryApp, settings: AppSettings,
                 response: Response) -> RoutePlanOut:
    return _asked(service.ask_for_plan(db=db, celery=celery, settings=settings, actor=actor, body=body), response)


@router.post(f"{PLANS}/meter-reading", response_model=RoutePlanOut, status_code=status.HTTP_202_ACCEPTED,
             summary="Ask for a reading window's rounds (one route per reader and day); the same uuid again: 200")
def ask_for_rounds(body: ReadingPlanIn, db: DbSession, actor: Planner, celery: CeleryApp, settings: AppSettings,
                   response: Response) -> RoutePlanOut:
    return _asked(service.ask_for_rounds(db=db, celery=celery, settings=settings, actor=actor, body=body), response)


@router.get(PLANS, response_model=RoutePlanPage, summary="Plans, oldest first; follow `next_cursor`")
def list_plans(db: DbSession, _actor: Planner, page: Page, date: Annotated[IsoDate | None, Query()] = None,
               state: Annotated[PlanState | None, Query()] = None) -> RoutePlanPage:
    items = service.list_plans(db=db, plan_date=date, state=state, after_id=page.after_id, limit=page.limit)
    return RoutePlanPage(items=items, next_cursor=next_cursor(items[-1].id if items else None, returned=len(items),
                                                              limit=page.limit))


@router.get(f"{PLANS}/{{plan_id}}", response_model=RoutePlanOut, summary="One plan: state, progress, result")
def read_plan(plan_id: DbId, db: DbSession, _actor: Planner, response: Response) -> RoutePlanOut:
    return _plan(service.read_plan(db=db, plan_id=plan_id), response)


@router.get(f"{PLANS}/{{plan_id}}/features", summary="The plan on the map: a LineString per route, a Point per stop")
def plan_features(plan_id: DbId, db: DbSession, _actor: Planner) -> dict[str, Any]:
    return service.plan_features(db=db, plan_id=plan_id)


@router.post(f"{PLANS}/{{plan_id}}/publish", response_model=RoutePlanOut,
             summary="Publish a solved plan (If-Match): tasks assigned in route order, routes on the devices")
def publish_plan(plan_id: DbId, db: DbSession, actor: Planner, expected_version: ExpectedVersion, now: Now,
                 response: Response) -> RoutePlanOut:
    return _plan(publish.publish(db=db, actor=actor, now=now, plan_id=plan_id, expected_version=expected_version),
                 response)


@router.post(f"{PLANS}/{{plan_id}}/replan", response_model=RoutePlanOut, status_code=status.HTTP_202_ACCEPTED,
             summary="Re-plan the rest of a published plan's day around urgent work (a new plan)")
def replan(plan_id: DbId, body: RePlanIn, db: DbSession, actor: Planner, celery: CeleryApp, settings: AppSettings,
           now: Now, response: Response) -> RoutePlanOut:
    return _plan(service.ask_for_replan(db=db, celery=celery, settings=settings, actor=actor, now=now,
                                        plan_id=plan_id, body=body), response, created=True)


@router.get("/my/route", response_model=MyRouteOut,
            summary="The caller's published route of a day, in order (planners may pass user_id)")
def my_route(db: DbSession, actor: RouteReader, date: Annotated[IsoDate, Query()],
             user_id: Annotated[DbId | None, Query()] = None) -> MyRouteOut:
    return publish.my_route(db=db, actor=actor, day=date, user_id=user_id)
