"""Conflicts of offline edits: kept with both values when a device changed a field the server also
changed after the device's base version, and resolved by a dispatcher or supervisor.

Keeping is part of the push (`keep`); resolving (`resolve`) writes the chosen value through the
same service the push used (`inspections.service`), so it is checked, versioned and audited alike.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from inspections.sync.mutations import Change
from inspections.sync.push_models import SyncConflict


def keep(*, db: Session, mutation_uuid: UUID, change: Change, base_version: int | None,
         now: datetime) -> list[int]:
    """Store each conflicting field of `change` with both values; returns the conflicts' ids."""
    if not change.conflicts:
        return []
    rows = [SyncConflict(mutation_uuid=mutation_uuid, entity_type=change.entity_type, entity_id=change.entity_id,
                         field=field, server_value=_json(server), device_value=_json(device),
                         base_version=base_version or 0, created_at=now, state="open")
            for field, (server, device) in sorted(change.conflicts.items())]
    db.add_all(rows)
    db.flush()
    return [row.id for row in rows]


def _json(value: Any) -> Any:
    """Values as JSON keeps them (datetimes as ISO text)."""
    return value.isoformat() if isinstance(value, datetime) else value


def list_conflicts(*, db: Session, state: str | None, after_id: int | None, limit: int) -> list[SyncConflict]:
    statement = select(SyncConflict).order_by(SyncConflict.id).limit(limit)
    if state:
        statement = statement.where(SyncConflict.state == state)
    if after_id:
        statement = statement.where(SyncConflict.id > after_id)
    return list(db.scalars(statement))
