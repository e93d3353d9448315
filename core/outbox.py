"""The event outbox: one table where every domain announces what changed.

Events are written in the same transaction as the change (so none is lost or announced for a
rolled-back change). `core.events` delivers them (the console's stream, webhooks);
`entity_type`/`entity_id` is the same reference the audit log uses, the one way records point at
each other across domains.

Domains may also react to another domain's event in that same transaction (`Domain.event_handlers`):
the composition roots give the session factory the handlers of the installed domains
(`core.database.create_session_factory`), and `emit` calls those registered for the event's type, so a
reaction commits or fails together with the change that caused it, and the domain that emits needs to
know nothing of who reacts.

Why `position` and not `id` orders delivery: an id is taken when the row is inserted, so a reader
can see id 12 committed while the transaction holding id 11 is still open; a reader that moved its
cursor past 12 would never see 11. The relay (`core.events.relay.publish`) numbers committed events
one transaction at a time, in id order, so the published positions are always a gap-free prefix
(see that module for why the xid horizon alone is not enough).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry, WKTElement
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
    # Where the event happened (EPSG:4326), when it has a place: streams and webhooks limited to an
    # area receive only events inside it.
    location: Mapped[Any | None] = mapped_column(Geometry(srid=4326, spatial_index=False), default=None)
    # Set by the relay: the delivery order (gap-free, commit-safe) and when it was numbered.
    position: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When the relay created this event's webhook deliveries.
    relayed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_outbox_events_unpublished", "id", postgresql_where="published_at IS NULL"),
                      Index("ix_outbox_events_unrelayed", "position",
                            postgresql_where="relayed_at IS NULL AND position IS NOT NULL"))


def emit(*, db: Session, event_type: str, entity_type: str, entity_id: int | str,
         payload: dict[str, Any] | None = None, location_wkt: str | None = None) -> OutboxEvent:
    """Announce a change in the caller's transaction. `location_wkt` (EPSG:4326) is where it happened,
    for area filtering; an event without one goes to everyone who may see its type."""
    event = OutboxEvent(event_type=event_type, entity_type=entity_type, entity_id=str(entity_id),
                        payload=payload or {}, request_id=current_request_id(),
                        location=WKTElement(location_wkt, srid=4326) if location_wkt else None)
    db.add(event)
    handlers: EventHandlers = db.info.get(EVENT_HANDLERS, {})
    for handler in handlers.get(event_type, ()):
        handler(db=db, event=event)
    return event
