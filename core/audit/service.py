"""Writing and reading the audit log.

`record` is called by every service that changes data, inside the caller's unit of work, so the
change and its audit record commit together. Snapshots are plain JSON-able dicts chosen by each
domain (e.g. users never include the password hash).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.models import AuditRecord
from core.context import Actor, current_request_id


def record(
    *,
    db: Session,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: int | str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    reason: str | None = None,
) -> AuditRecord:
    entry = AuditRecord(
        actor_id=actor.user_id,
        actor_name=actor.username,
        actor_role=str(actor.role),
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        before=before,
        after=after,
        request_id=current_request_id(),
        reason=reason,
    )
    db.add(entry)
    return entry


@dataclass(frozen=True)
class AuditQuery:
    entity_type: str | None = None
    entity_id: str | None = None
    actor_name: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    after_id: int | None = None
    limit: int = 100


def search(*, db: Session, query: AuditQuery) -> list[AuditRecord]:
    """Newest first, keyset-paginated by id so pages stay stable while records are appended."""
    stmt = select(AuditRecord)
    if query.entity_type:
        stmt = stmt.where(AuditRecord.entity_type == query.entity_type)
    if query.entity_id:
        stmt = stmt.where(AuditRecord.entity_id == query.entity_id)
    if query.actor_name:
        stmt = stmt.where(AuditRecord.actor_name == query.actor_name)
    if query.since:
        stmt = stmt.where(AuditRecord.occurred_at >= query.since)
    if query.until:
        stmt = stmt.where(AuditRecord.occurred_at < query.until)
    if query.after_id is not None:
        stmt = stmt.where(AuditRecord.id < query.after_id)
    return list(db.scalars(stmt.order_by(AuditRecord.id.desc()).limit(query.limit)))
