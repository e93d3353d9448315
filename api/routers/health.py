"""Health: up or down for anyone (load balancers, monitors); the details for administrators."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.dependencies import public, require
from core import health
from core.permissions import HEALTH_DETAILS

router = APIRouter(tags=["health"])


async def _report(request: Request) -> health.HealthReport:
    state = request.app.state
    return await run_in_threadpool(health.check_all, engine=state.engine,
                                   redis_url=state.settings.redis.url.get_secret_value(),
                                   storage=state.storage, celery=state.celery)


@router.get("/health", dependencies=[Depends(public)])
async def get_health(request: Request) -> JSONResponse:
    """Whether the database, Redis, S3 and the Celery workers are up, overall and per component.

    200 when every component is up; 503 naming the ones that are down. No versions or reasons: those
    are at `/health/details`, for administrators.
    """
    report = await _report(request)
    return JSONResponse(report.summary(), status_code=200 if report.ok else 503)


@router.get("/health/details", dependencies=[Depends(require(HEALTH_DETAILS))])
async def get_health_details(request: Request) -> JSONResponse:
    """The same checks with PostgreSQL and PostGIS versions, the number of workers that answered and why a
    component is down (needs `health:details`, administrators only). 200 or 503 as `/health`."""
    report = await _report(request)
    return JSONResponse(report.details(), status_code=200 if report.ok else 503)
