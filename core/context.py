"""Who is acting and under which request: carried into audit records and outbox events."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar
from dataclasses import dataclass

from core.audit.models import AuditRecord
from core.permissions import Role

_request_id: ContextVar[str | None] = ContextVar("gw_request_id", default=None)

REQUEST_ID_HEADER = "X-Request-ID"
# The id is stored with every audit record and outbox event, so it may be no longer than that column;
# letters, digits and `._:-` cover UUIDs, ULIDs and trace ids while keeping logs and headers clean.
REQUEST_ID_MAX_LENGTH: int = AuditRecord.__table__.c.request_id.type.length  # type: ignore[attr-defined]
_REQUEST_ID_CHARACTERS = re.compile(r"[A-Za-z0-9._:-]+")


def current_request_id() -> str | None:
    return _request_id.get()


def request_id_problem(value: str | None) -> str | None:
    """Why a client's `X-Request-ID` cannot be used (None when it can, or when none was sent)."""
    if value is None:
        return None
    if not 1 <= len(value) <= REQUEST_ID_MAX_LENGTH:
        return f"must be 1 to {REQUEST_ID_MAX_LENGTH} characters long"
    if not _REQUEST_ID_CHARACTERS.fullmatch(value):
        return "may contain only letters, digits and . _ : -"
    return None


def bind_request_id(request_id: str | None = None) -> str:
    """Set the request id for this context (HTTP middleware, Celery task, CLI run)."""
    value = request_id or uuid.uuid4().hex
    _request_id.set(value)
    return value


@dataclass(frozen=True, slots=True)
class Actor:
    """The signed-in user (or a named system process) on whose behalf a change is made."""

    user_id: int | None
    username: str
    role: Role

    @classmethod
    def system(cls, name: str) -> Actor:
        """A non-human actor, e.g. `system:import` for a CLI import; still named in the audit log."""
        return cls(user_id=None, username=f"system:{name}", role=Role.admin)
