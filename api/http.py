"""HTTP details every router shares: a record's version as its ETag, and the status of a
submission that may be a replay (Idempotency-Key).

One ETag helper, so that the ETag a client reads (`ETag: "3"`) is always the form `If-Match`
accepts back (`api.dependencies.if_match_version`), whichever resource it came from."""

from __future__ import annotations

from typing import TypeVar

from fastapi import Response, status

from core.fingerprint import Submitted

T = TypeVar("T")


def etag(version: int) -> str:
    """The strong ETag of a record at `version` (RFC 9110 §8.8.3: a quoted string)."""
    return f'"{version}"'


def submitted(result: Submitted[T], response: Response) -> T:
    """201 for what a submission created, 200 for the replay of an earlier one with the same
    Idempotency-Key (the first result, unchanged)."""
    response.status_code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
    return result.value
