"""One mapping from domain exceptions to RFC 9457 problem+json responses.

Services raise `core.errors` exceptions; this module is the only place that knows their HTTP status.
Unexpected exceptions become a 500 that names the request id but never leaks internals.
"""

from __future__ import annotations

import logging
from typing import Any

import redis.exceptions
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from core import errors
from core.context import current_request_id
from core.database import unavailable_from

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

STATUS_BY_ERROR: dict[type[errors.GridWardenError], int] = {
    errors.InvalidInput: 422,
    errors.NotAuthenticated: 401,
    errors.PermissionDenied: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.StaleVersion: 412,
    errors.PayloadTooLarge: 413,
    errors.PreconditionRequired: 428,
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
            return STATUS_BY_ERROR[cls]  # type: ignore[index]
    return 400


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.GridWardenError)
    status = _status_for(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, errors.NotAuthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, errors.ServiceUnavailable):
        headers["Retry-After"] = str(exc.retry_after_s)
    extra = dict(exc.extra)
    if isinstance(exc, errors.InvalidInput) and exc.errors:
        extra["errors"] = exc.errors
    return problem(status, exc.title, exc.detail, headers=headers or None, **extra)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [
        {"field": ".".join(str(p) for p in err.get("loc", ()) if p != "body"), "message": err.get("msg", "")}
        for err in exc.errors()
    ]
    summary = "; ".join(f"{d['field'] or 'body'}: {d['message']}" for d in details[:5])
    return problem(422, "Invalid input", summary or "The request is not valid.", errors=details)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return problem(exc.status_code, _title_for_status(exc.status_code), str(exc.detail),
                   headers=getattr(exc, "headers", None))


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    """A database error outside a unit of work: 503 only when a retry can cure it (connection lost or
    refused, timeout, contention; `core.database.unavailable_from` tells which), else a plain 500."""
    mapped = unavailable_from(exc)
    if mapped is None:
        return await _unexpected(request, exc)
    logger.warning("database unavailable (%s): %s", mapped.extra.get("reason"), exc.__class__.__name__)
    return await _domain_error(request, mapped)


async def _redis_down(_request: Request, exc: Exception) -> JSONResponse:
    logger.warning("redis unavailable: %s", exc.__class__.__name__)
    return problem(503, "Service unavailable", "The job queue is not reachable. Retry shortly.",
                   headers={"Retry-After": "5"}, service="redis")


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error", exc_info=exc)
    return problem(500, "Internal error", "An unexpected error occurred; it has been logged with this request id.")


def _title_for_status(status: int) -> str:
    return {400: "Bad request", 401: "Not authenticated", 403: "Permission denied", 404: "Not found",
            405: "Method not allowed", 413: "Payload too large"}.get(status, "Request failed")


def register_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(errors.GridWardenError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(PoolTimeoutError, _database_error)
    app.add_exception_handler(redis.exceptions.ConnectionError, _redis_down)
    app.add_exception_handler(Exception, _unexpected)
