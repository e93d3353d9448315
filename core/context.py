"""Who is acting and under which request: carried into audit records and outbox events."""

from __future__ import annotations

import uuid
from contextvars import ContextVar
from dataclasses import dataclass

from core.permissions import Role

_request_id: ContextVar[str | None] = ContextVar("gw_request_id", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


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
