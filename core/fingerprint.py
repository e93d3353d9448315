"""Fingerprints of JSON documents kept as reference data (rule sets, holiday calendars), and of
requests sent with an Idempotency-Key.

The sha256 of the canonical JSON (sorted keys, no whitespace), so re-ordering keys or re-indenting
a file is not mistaken for a change of content. The migrations that seed these documents repeat
this rule inline, because a migration must keep working unchanged whatever the code becomes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel


def json_fingerprint(document: Any) -> str:
    canonical = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# The field error of a 422 for a key sent again with a different request.
IDEMPOTENCY_KEY_REUSED = {"field": "Idempotency-Key", "message": "already used for a different request"}


def request_fingerprint(*, operation: str, epsg: int, body: BaseModel) -> str:
    """What an Idempotency-Key is bound to (IETF Idempotency-Key draft, "request fingerprint").

    The request as the server understood it: which operation, the CRS its coordinates are in (the
    same numbers in another CRS are another place) and the validated body with its defaults filled
    in. So a retry that re-serialises the same body (keys in another order, a default left out)
    matches, and a different request under the same key does not, whichever endpoint it is sent to.
    """
    return json_fingerprint({"operation": operation, "crs": epsg, "body": body.model_dump(mode="json")})


T = TypeVar("T")


@dataclass(frozen=True)
class Submitted(Generic[T]):
    """The answer to a submission that may carry an Idempotency-Key: what it produced, and whether
    it was created now (HTTP 201) or is the first submission's result, replayed (HTTP 200)."""

    value: T
    created: bool
