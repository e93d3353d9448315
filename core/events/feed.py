"""Reading published events in position order, and who may see which (role, area, type)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.outbox import OutboxEvent
from core.permissions import Permission, Role, has_permission


@dataclass(frozen=True)
class PublishedEvent:
    """An outbox event as subscribers get it. `id` is the event's identity (de-duplicate by it);
    `position` is its place in the delivery order (the stream's `id:`, the resume point)."""

    id: int
    position: int
    event_type: str
    entity_type: str
    entity_id: str
    occurred_at: datetime
    payload: dict[str, Any]
    location: dict[str, Any] | None  # GeoJSON

    @cached_property
    def geometry(self) -> BaseGeometry | None:
        return shape(self.location) if self.location else None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "position": self.position, "type": self.event_type,
                "entity_type": self.entity_type, "entity_id": self.entity_id,
                "occurred_at": self.occurred_at.isoformat(), "payload": self.payload, "location": self.location}


_COLUMNS = (OutboxEvent.id, OutboxEvent.position, OutboxEvent.event_type, OutboxEvent.entity_type,
            OutboxEvent.entity_id, OutboxEvent.occurred_at, OutboxEvent.payload,
            func.ST_AsGeoJSON(OutboxEvent.location, 9))


def _event(row: Any) -> PublishedEvent:
    return PublishedEvent(id=row[0], position=row[1], event_type=row[2], entity_type=row[3], entity_id=row[4],
                          occurred_at=row[5], payload=row[6], location=json.loads(row[7]) if row[7] else None)


def published_after(*, db: Session, after: int, limit: int) -> list[PublishedEvent]:
    """Published events with a position above `after`, oldest first."""
    rows = db.execute(select(*_COLUMNS).where(OutboxEvent.position > after)
                      .order_by(OutboxEvent.position).limit(limit))
    return [_event(row) for row in rows]


def published_by_ids(*, db: Session, ids: list[int]) -> dict[int, PublishedEvent]:
    rows = db.execute(select(*_COLUMNS).where(OutboxEvent.id.in_(ids)))
    return {event.id: event for event in map(_event, rows)}


def head_position(*, db: Session) -> int:
    """The position of the last published event (0 when none): where a stream opened "from now" starts."""
    return int(db.scalar(select(func.coalesce(func.max(OutboxEvent.position), 0))) or 0)


@dataclass(frozen=True)
class Audience:
    """What one subscriber may receive: their role (through each entity type's declared
    permission), their work area, and the type prefixes they asked for."""

    role: Role
    visibility: dict[str, Permission]
    area: BaseGeometry | None = None
    type_prefixes: tuple[str, ...] = ()

    def admits(self, event: PublishedEvent) -> bool:
        permission = self.visibility.get(event.entity_type)
        if permission is None:
            if self.role is not Role.admin:  # an entity type no domain declared: administrators only
                return False
        elif not has_permission(self.role, permission):
            return False
        if self.type_prefixes and not event.event_type.startswith(self.type_prefixes):
            return False
        return self.area is None or event.geometry is None or self.area.intersects(event.geometry)
