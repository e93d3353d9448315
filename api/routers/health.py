from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.dependencies import public
from core import health

router = APIRouter(tags=["health"])


@router.get("/health", dependencies=[Depends(public)])
async def get_health(request: Request) -> JSONResponse:
    """Status of the database (with PostGIS version), Redis, S3 and the Celery workers.

    200 when every component is up; 503 naming the ones that are down (for load balancers and on-call).
    """
    state = request.app.state
    components = {
        "database": await run_in_threadpool(health.check_database, state.engine),
        "redis": await run_in_threadpool(health.check_redis, state.settings.redis.url.get_secret_value()),
        "s3": await run_in_threadpool(health.check_storage, state.storage),
        "workers": await run_in_threadpool(health.check_workers, state.celery),
    }
    down = sorted(name for name, status in components.items() if not status.ok)
    body = {
        "status": "ok" if not down else "degraded",
        "down": down,
        "components": {name: {"ok": s.ok, "detail": s.detail, **s.info} for name, s in components.items()},
    }
    return JSONResponse(body, status_code=200 if not down else 503)
