"""One mapping from domain exceptions to RFC 9457 problem+json responses.

Services raise `core.errors` exceptions; this module is the only place that knows their HTTP status.
Unexpected exceptions become a 500 that names the request id but never leaks internals, answered by
`UnexpectedErrorMiddleware` on a connection that stays usable.
"""

from __future__ import annotations

import logging
from typing import Any

import redis.exceptions
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from api.asgi import TrackedSend
from core import errors
from core.context import current_request_id
from core.database import unavailable_from

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

STATUS_BY_ERROR: dict[type[errors.GridWardenError], int] = {
    errors.InvalidQuery: 400,
    errors.InvalidInput: 422,
    errors.NotAuthenticated: 401,
    errors.PermissionDenied: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.StaleVersion: 412,
    errors.PayloadTooLarge: 413,
    errors.PreconditionRequired: 428,
    errors.TooManyRequests: 429,
    errors.ServiceUnavailable: 503,
}


def problem(status: int, title: str, detail: str, *, headers: dict[str, str] | None = None,
            **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    request_id = current_request_id()
    if request_id:
        body["request_id"] = request_id
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _status_for(exc: errors.GridWardenError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


# Paths a person may open in a browser with a personal access token as the HTTP Basic password (the
# OGC API's HTML pages): their 401 also offers Basic, so the browser asks for username and token.
BASIC_CHALLENGE_PREFIXES = ("/ogc",)


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.GridWardenError)
    status = _status_for(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, errors.NotAuthenticated):
        basic = request.url.path.startswith(BASIC_CHALLENGE_PREFIXES)
        headers["WWW-Authenticate"] = 'Bearer, Basic realm="GridWarden", charset="UTF-8"' if basic else "Bearer"
    if isinstance(exc, errors.ServiceUnavailable | errors.TooManyRequests):
        headers["Retry-After"] = str(exc.retry_after_s)
    extra = dict(exc.extra)
    if isinstance(exc, errors.InvalidInput) and exc.errors:
        extra["errors"] = exc.errors
    return problem(status, exc.title, exc.detail, headers=headers or None, **extra)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [{"field": _field_name(err), "message": err.get("msg", "")} for err in exc.errors()]
    summary = "; ".join(f"{d['field'] or 'body'}: {d['message']}" for d in details[:5])
    return problem(422, "Invalid input", summary or "The request is not valid.", errors=details)


def _field_name(error: dict[str, Any]) -> str:
    """`properties.name`, `query.limit`...; a body that is not JSON at all is `body` (its loc is a position)."""
    if error.get("type") == "json_invalid":
        return "body"
    return ".".join(str(p) for p in error.get("loc", ()) if p != "body")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    headers = getattr(exc, "headers", None)
    if exc.status_code == 405:
        # The router names only the first route whose path matched; a resource's methods are spread
        # over several routes (GET, PATCH, DELETE...), so `Allow` is rebuilt from all of them.
        allow = ", ".join(sorted(allowed_methods(request.app, request.scope)))
        if request.method == "OPTIONS":
            return Response(status_code=204, headers={"Allow": allow})
        return problem(405, "Method not allowed", f"{request.method} is not allowed here; use one of: {allow}.",
                       headers={"Allow": allow})
    if exc.status_code == 400:
        # The only 400 the framework raises: a body that cannot be read as its Content-Type says.
        return problem(422, "Invalid input", f"body: {exc.detail}",
                       errors=[{"field": "body", "message": str(exc.detail)}])
    return problem(exc.status_code, _title_for_status(exc.status_code), str(exc.detail), headers=headers)


def allowed_methods(app: FastAPI, scope: Scope) -> set[str]:
    """Every method some route serves at this path (and OPTIONS, which is always answered)."""
    methods = {"OPTIONS"}
    for route in iter_route_contexts(app.router.routes):
        match, _ = route.matches(scope)
        if match != Match.NONE:
            methods |= set(route.methods or ())
    return methods


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    """A database error outside a unit of work: 503 only when a retry can cure it (connection lost or
    refused, timeout, contention; `core.database.unavailable_from` tells which). Anything else is
    raised on to `UnexpectedErrorMiddleware`, the one place that answers 500."""
    mapped = unavailable_from(exc)
    if mapped is None:
        raise exc
    logger.warning("database unavailable (%s): %s", mapped.extra.get("reason"), exc.__class__.__name__)
    return await _domain_error(request, mapped)


async def _redis_down(_request: Request, exc: Exception) -> JSONResponse:
    logger.warning("redis unavailable: %s", exc.__class__.__name__)
    return problem(503, "Service unavailable", "The job queue is not reachable. Retry shortly.",
                   headers={"Retry-After": "5"}, service="redis")


class UnexpectedErrorMiddleware:
    """An exception no handler claimed becomes a problem+json 500, and the connection stays healthy.

    Starlette's `ServerErrorMiddleware` would answer too, but it then re-raises, and the server drops
    the keep-alive connection without `Connection: close`: the client's next request meets a reset.
    This middleware sits inside it and does not re-raise once the 500 is sent.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tracked = TrackedSend(send)
        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            if tracked.started:
                raise  # half a response is on the wire: only closing the connection can tell the client
            logger.exception("unhandled error", exc_info=exc)
            response = problem(500, "Internal error",
                               "An unexpected error occurred; it has been logged with this request id.")
            await response(scope, receive, send)


def _title_for_status(status: int) -> str:
    return {400: "Bad request", 401: "Not authenticated", 403: "Permission denied", 404: "Not found",
            405: "Method not allowed", 413: "Payload too large", 429: "Too many requests"}.get(status, "Request failed")


def register_error_handlers(app: FastAPI) -> None:
    """The status map's handlers, and the 500 middleware (registered first, so it sits innermost)."""
    app.add_middleware(UnexpectedErrorMiddleware)
    app.add_exception_handler(errors.GridWardenError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(PoolTimeoutError, _database_error)
    app.add_exception_handler(redis.exceptions.ConnectionError, _redis_down)
