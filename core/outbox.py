"""The event outbox: one table where every domain announces what changed.

Events are written in the same transaction as the change (so none is lost or announced for a
rolled-back change). Domains may also react to another domain's event in that same transaction
(`Domain.event_handlers`): the composition roots give the session factory the handlers of the
installed domains (`core.database.create_session_factory`), and `emit` calls those registered for
the event's type, so a reaction commits or fails together with the change that caused it, and the
domain that emits needs to know nothing of who reacts. Later issues relay them to the dispatcher console and to offline mobile
clients; `entity_type`/`entity_id` is the same reference the audit log uses, the one way records
point at each other across domains.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Index, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.context import current_request_id
from core.models import Base

# handler(db=..., event=...): reacts within the emitting transaction; an exception rolls it all back.
EventHandler = Callable[..., None]
EventHandlers = Mapping[str, Sequence[EventHandler]]
# Where a session keeps its handlers by event type (`Session.info`, filled from the session factory's).
EVENT_HANDLERS = "gw_event_handlers"


class OutboxEvent(Base):
    __tablename__ = "outbox_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    event_type: Mapped[str] = mapped_column(String(80))
    entity_type: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    request_id: Mapped[str | None] = mapped_column(String(64))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_outbox_events_unpublished", "id", postgresql_where="published_at IS NULL"),)


def emit(*, db: Session, event_type: str, entity_type: str, entity_id: int | str,
         payload: dict[str, Any] | None = None) -> OutboxEvent:
    event = OutboxEvent(event_type=event_type, entity_type=entity_type, entity_id=str(entity_id),
                        payload=payload or {}, request_id=current_request_id())
    db.add(event)
    handlers: EventHandlers = db.info.get(EVENT_HANDLERS, {})
    for handler in handlers.get(event_type, ()):
        handler(db=db, event=event)
    return event
