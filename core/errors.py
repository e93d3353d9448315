"""The domain's exception hierarchy.

Services raise these and never `HTTPException`; `api.errors` maps each class to one HTTP status and
renders an RFC 9457 problem+json body. `detail` is written for the person who sent the request.
"""

from __future__ import annotations

from typing import Any


class GridWardenError(Exception):
    """Base class: a short `title` per class and a request-specific `detail`."""

    title = "Request failed"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidInput(GridWardenError):
    """The request is well-formed JSON but its content breaks a rule (geometry, CRS, range...)."""

    title = "Invalid input"

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.errors = errors or []


class InvalidQuery(InvalidInput):
    """A query string a standard protocol says is a bad request (400), e.g. an OGC API Features
    `bbox`, `crs` or `limit` the server cannot use, or a parameter it does not know."""

    title = "Bad request"


class NotAuthenticated(GridWardenError):
    title = "Not authenticated"


class PermissionDenied(GridWardenError):
    title = "Permission denied"


class NotFound(GridWardenError):
    title = "Not found"


class Conflict(GridWardenError):
    """The request clashes with the current state (duplicate external id, illegal transition...)."""

    title = "Conflict"


class PreconditionRequired(GridWardenError):
    """A write that must name the version it is based on did not send `If-Match`."""

    title = "Precondition required"


class StaleVersion(GridWardenError):
    """`If-Match` named a version that is no longer current: someone else changed the record."""

    title = "Stale version"

    def __init__(self, detail: str, *, current_version: int, **extra: Any) -> None:
        super().__init__(detail, current_version=current_version, **extra)
        self.current_version = current_version


class PayloadTooLarge(GridWardenError):
    title = "Payload too large"


class ServiceUnavailable(GridWardenError):
    """A backing service (database, Redis, S3, worker) is down; the client should retry later."""

    title = "Service unavailable"

    def __init__(self, detail: str, *, service: str, retry_after_s: int = 5, **extra: Any) -> None:
        super().__init__(detail, service=service, **extra)
        self.service = service
        self.retry_after_s = retry_after_s


class TooManyRequests(GridWardenError):
    """The caller must wait (sign-in throttling); `retry_after_s` says how long."""

    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after_s: int, **extra: Any) -> None:
        super().__init__(detail, retry_after_s=retry_after_s, **extra)
        self.retry_after_s = retry_after_s
