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

from core.audit import service as audit
from core.context import Actor
from core.errors import Conflict, NotFound, PermissionDenied
from core.outbox import emit
from core.permissions import Role
from core.users.models import User
from inspections import service as task_service
from inspections.models import FieldTask
from inspections.sync.mutations import Change
from inspections.sync.push_models import SyncConflict, SyncMutation


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
    ids = [row.id for row in rows]
    # The dispatch desk learns of it at once (its queue is GET /sync/conflicts).
    emit(db=db, event_type="sync_conflict.opened", entity_type=change.entity_type, entity_id=change.entity_id,
         payload={"conflict_ids": ids, "fields": sorted(change.conflicts), "mutation_uuid": str(mutation_uuid)})
    return ids


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


def resolve(*, db: Session, actor: Actor, now: datetime, conflict_id: int, keep: str, value: Any = None
            ) -> SyncConflict:
    """Settle a conflict: keep the server's value (nothing is written), the device's, or another value.
    The write goes through `inspections.service` at the task's current version, so it is checked and
    versioned like any edit. A checklist answer is the inspector's record: keeping the device's answer
    writes it as its author (the resolver is in the audit record); a dispatcher never invents one."""
    conflict = db.scalar(select(SyncConflict).where(SyncConflict.id == conflict_id).with_for_update())
    if conflict is None:
        raise NotFound(f"No conflict with id {conflict_id}.")
    if conflict.state != "open":
        raise Conflict(f"Conflict {conflict_id} was resolved already (kept the {conflict.kept} value).")
    chosen = {"server": conflict.server_value, "device": conflict.device_value, "value": value}[keep]
    if keep != "server":
        _write(db=db, actor=actor, now=now, conflict=conflict, keep=keep, chosen=chosen)
    before = {"state": "open", "server_value": conflict.server_value, "device_value": conflict.device_value}
    conflict.state, conflict.kept, conflict.resolved_value = "resolved", keep, chosen
    conflict.resolved_at, conflict.resolved_by_id = now, actor.user_id
    db.flush()
    audit.record(db=db, actor=actor, action="sync_conflict.resolve", entity_type="sync_conflict",
                 entity_id=conflict.id, before=before,
                 after={"state": "resolved", "kept": keep, "value": chosen, "field": conflict.field,
                        "entity": f"{conflict.entity_type}/{conflict.entity_id}"})
    emit(db=db, event_type="sync_conflict.resolved", entity_type=conflict.entity_type, entity_id=conflict.entity_id,
         payload={"conflict_id": conflict.id, "field": conflict.field, "kept": keep})
    return conflict


def _write(*, db: Session, actor: Actor, now: datetime, conflict: SyncConflict, keep: str, chosen: Any) -> None:
    if conflict.entity_type != "field_task":
        raise Conflict(f"Conflicts on {conflict.entity_type} are resolved by keeping the server's value.")
    task = db.get_one(FieldTask, conflict.entity_id)
    if conflict.field.startswith("answers."):
        if keep == "value":
            raise PermissionDenied("A checklist answer is the inspector's record: keep the server's answer or the "
                                   "device's, or send the task back for the inspector to answer again.")
        task_service.save_answers(db=db, actor=_author(db, conflict), now=now, task_id=task.id,
                                  answers={conflict.field.removeprefix("answers."): chosen},
                                  base_version=task.version)
    else:
        task_service.update_task(db=db, actor=actor, now=now, task_id=task.id, changes={conflict.field: chosen},
                                 base_version=task.version)


def _author(db: Session, conflict: SyncConflict) -> Actor:
    """Who pushed the conflicting answer."""
    user = db.scalars(select(User).join(SyncMutation, SyncMutation.user_id == User.id)
                      .where(SyncMutation.uuid == conflict.mutation_uuid)).one()
    return Actor(user_id=user.id, username=user.username, role=Role(user.role))
