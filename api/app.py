"""App factory. Settings come in; nothing is built at import time."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis
from fastapi import FastAPI

from api.compression import CompressionMiddleware, CompressionSettings
from api.dependencies import Clock, utc_now
from api.errors import register_error_handlers
from api.limits import BodySizeLimit
from api.middleware import NulByteGuard, RequestIdMiddleware
from api.openapi import install_openapi
from api.routers import console, core_router, ogc, tiles
from core.celery_app import create_celery
from core.database import create_db_engine, create_read_engine, create_session_factory
from core.registry import Domains
from core.settings import Settings
from core.storage import ObjectStorage
from gis.layers.tiles.spec import tile_layers
from gridwarden.domains import installed

DESCRIPTION = """GridWarden: field-operations backend for a power distribution utility.

Sign in with `POST /api/v1/auth/token` (the **Authorize** button), then browse the network layers,
customers and traces. Errors are RFC 9457 problem+json.
"""


def create_app(settings: Settings, domains: Domains | None = None, clock: Clock = utc_now) -> FastAPI:
    """The API with the installed domains' routes (or `domains`, e.g. a test's selection).

    `clock` is the time the domain works with (`api.dependencies.Now`); tests may replace
    `app.state.clock` to make requests at a chosen moment."""
    domains = domains or installed()
    logging.basicConfig(level=settings.log_level)
    engine = create_db_engine(settings.database)
    # The read replica's engine (`GW_DATABASE_READ_URL`), or None: every read on the primary.
    read_engine = create_read_engine(settings.database)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()
        if read_engine is not None:
            read_engine.dispose()
        app.state.redis.close()

    app = FastAPI(title="GridWarden", version="0.1.0", description=DESCRIPTION, lifespan=lifespan,
                  docs_url="/docs", openapi_url="/api/v1/openapi.json")
    app.state.settings = settings
    app.state.domains = domains
    app.state.clock = clock
    app.state.engine = engine
    app.state.session_factory = create_session_factory(engine, domains.event_handlers())
    app.state.read_session_factory = None if read_engine is None else create_session_factory(read_engine)
    app.state.storage = ObjectStorage(settings.s3)
    app.state.celery = create_celery(settings)
    # The vector tile layers served at /tiles; a test may narrow one's permission here.
    app.state.tile_layers = dict(tile_layers())
    for name, value in domains.app_state().items():
        setattr(app.state, name, value)
    # Session checks and sign-in throttling; short timeouts so a hung Redis cannot hold every request.
    app.state.redis = redis.Redis.from_url(settings.redis.url.get_secret_value(),
                                           socket_connect_timeout=settings.auth.redis_timeout_s,
                                           socket_timeout=settings.auth.redis_timeout_s)

    register_error_handlers(app)  # first: its 500 middleware must sit inside every other one
    app.add_middleware(NulByteGuard)
    # Outside the NUL guard (which reads JSON bodies): an oversized body is refused before anything reads it.
    app.add_middleware(BodySizeLimit, settings=settings.api)
    app.add_middleware(RequestIdMiddleware)  # last added runs first: every answer carries the request id
    # Outermost: whatever any layer answers (a problem too) leaves compressed when it is worth it.
    app.add_middleware(CompressionMiddleware, settings=settings.section(CompressionSettings))
    app.include_router(core_router(), prefix="/api/v1")
    for router in domains.routers():
        app.include_router(router, prefix="/api/v1")
    app.include_router(tiles.router)  # at the root: /tiles/{layer}/{z}/{x}/{y}.mvt, as map clients expect
    # At the root, as GIS clients are given it: OGC API Features over every domain's layers.
    app.include_router(ogc.router)
    app.include_router(console.router)  # the map console's page and files, outside the API's /api/v1
    install_openapi(app)
    return app


def create_app_from_env() -> FastAPI:
    """Entry point for `uvicorn --factory api.app:create_app_from_env`."""
    return create_app(Settings())
