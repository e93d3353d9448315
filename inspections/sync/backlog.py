"""The backlog: pushed items that name a parent the server has not received yet (a finding for a
task created on another device, pushed later). They wait, and are applied when the parent arrives:
at the end of every push and by the periodic job (`inspections.sync.tasks`). An item waiting longer
than the age limit becomes `expired`: it shows in the dispatcher's queue (`GET /sync/backlog`) until
someone retries it or discards it with a reason. Nothing leaves the backlog without a recorded result.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.audit import service as audit
from core.context import Actor
from core.errors import Conflict, InvalidInput, NotFound
from core.outbox import emit
from core.permissions import Role
from core.settings import Settings
from core.users.models import User
from inspections.sync.apply import apply_item
from inspections.sync.mutations import PARENTS, parent_exists
from inspections.sync.push_models import SyncBacklogItem, SyncMutation
from inspections.sync.push_schemas import ItemProblem, ItemResult, PushItemIn
from inspections.sync.push_settings import push_settings


def enqueue(*, db: Session, actor: Actor, now: datetime, item: PushItemIn, result: ItemResult) -> None:
    """Keep a queued item (its mutation row exists: the push claimed it) until its parent arrives."""
    assert result.waiting_for is not None and actor.user_id is not None
    db.add(SyncBacklogItem(mutation_uuid=item.uuid, user_id=actor.user_id, item=item.model_dump(mode="json"),
                           waiting_for_type=result.waiting_for["entity_type"],
                           waiting_for_uuid=UUID(result.waiting_for["uuid"]), since=now, attempts=0,
                           state="waiting"))


def apply_waiting(*, db: Session, now: datetime, settings: Settings) -> dict[UUID, ItemResult]:
    """Apply every waiting item whose parent now exists, as the user who pushed it; returns the new
    results by mutation uuid. Rows another transaction is applying are skipped (it records them)."""
    applied: dict[UUID, ItemResult] = {}
    for entity_type, model in PARENTS.items():
        ready = db.scalars(select(SyncBacklogItem)
                           .where(SyncBacklogItem.state == "waiting", SyncBacklogItem.waiting_for_type == entity_type,
                                  SyncBacklogItem.waiting_for_uuid.in_(select(model.uuid)))
                           .order_by(SyncBacklogItem.id).with_for_update(skip_locked=True)).all()
        for row in ready:
            applied[row.mutation_uuid] = _apply(db=db, now=now, settings=settings, row=row)
    return applied


def _apply(*, db: Session, now: datetime, settings: Settings, row: SyncBacklogItem) -> ItemResult:
    pusher = db.get_one(User, row.user_id)
    actor = Actor(user_id=pusher.id, username=pusher.username, role=Role(pusher.role))
    device_id, skew_s = db.execute(select(SyncMutation.device_id, SyncMutation.skew_s)
                                   .where(SyncMutation.uuid == row.mutation_uuid)).one()
    result = apply_item(db=db, actor=actor, now=now, settings=settings, item=PushItemIn.model_validate(row.item),
                        device_id=device_id, skew_s=skew_s)
    row.attempts += 1
    if result.status == "queued" and result.waiting_for:  # now waiting for another parent
        row.waiting_for_type = result.waiting_for["entity_type"]
        row.waiting_for_uuid = UUID(result.waiting_for["uuid"])
    else:
        row.state, row.resolved_at = "done", now
    _set_result(db=db, now=now, result=result)
    return result


def expire(*, db: Session, now: datetime, settings: Settings) -> list[int]:
    """Move items waiting longer than the age limit into the dispatcher's queue (`expired`)."""
    cutoff = now - timedelta(hours=push_settings(settings).backlog_max_age_hours)
    old = db.scalars(select(SyncBacklogItem).where(SyncBacklogItem.state == "waiting", SyncBacklogItem.since < cutoff)
                     .order_by(SyncBacklogItem.id).with_for_update(skip_locked=True)).all()
    system = Actor.system("sync-backlog")
    for row in old:
        row.state = "expired"
        result = _stored(db, row.mutation_uuid).model_copy(update={"status": "expired"})
        _set_result(db=db, now=now, result=result)
        audit.record(db=db, actor=system, action="sync_backlog.expire", entity_type="sync_backlog", entity_id=row.id,
                     before={"state": "waiting"}, after={"state": "expired"},
                     reason=f"waited since {row.since.isoformat()} for {row.waiting_for_type} {row.waiting_for_uuid}")
        emit(db=db, event_type="sync_backlog.expired", entity_type="sync_backlog", entity_id=row.id,
             payload={"mutation_uuid": str(row.mutation_uuid), "user_id": row.user_id,
                      "waiting_for": {"entity_type": row.waiting_for_type, "uuid": str(row.waiting_for_uuid)}})
    return [row.id for row in old]


@dataclass(frozen=True)
class BacklogFilter:
    state: str | None = None
    after_id: int | None = None
    limit: int = 100


def list_items(*, db: Session, query: BacklogFilter) -> list[SyncBacklogItem]:
    statement = select(SyncBacklogItem).order_by(SyncBacklogItem.id).limit(query.limit)
    if query.state:
        statement = statement.where(SyncBacklogItem.state == query.state)
    if query.after_id:
        statement = statement.where(SyncBacklogItem.id > query.after_id)
    return list(db.scalars(statement))


def resolve(*, db: Session, actor: Actor, now: datetime, settings: Settings, backlog_id: int, action: str,
            note: str | None) -> SyncBacklogItem:
    """A dispatcher's decision on a waiting or expired item: `retry` (its parent has arrived) or
    `discard` (with a reason, which becomes the item's rejection: the device learns why)."""
    row = db.scalar(select(SyncBacklogItem).where(SyncBacklogItem.id == backlog_id).with_for_update())
    if row is None:
        raise NotFound(f"Backlog item {backlog_id} does not exist.")
    if row.state not in ("waiting", "expired"):
        raise Conflict(f"Backlog item {backlog_id} is {row.state} already; only waiting or expired items are resolved.")
    before = {"state": row.state, "attempts": row.attempts}
    if action == "retry":
        if not parent_exists(db, row.waiting_for_type, row.waiting_for_uuid):
            raise Conflict(f"Its parent {row.waiting_for_type} {row.waiting_for_uuid} is still not on the server; "
                           "retry when it arrives, or discard the item with a reason.")
        _apply(db=db, now=now, settings=settings, row=row)
    elif action == "discard":
        if not note:
            raise InvalidInput("Say why the item is discarded (note): the inspector is told.",
                               errors=[{"field": "note", "message": "required to discard"}])
        row.state, row.resolved_at = "discarded", now
        result = _stored(db, row.mutation_uuid).model_copy(update={"status": "rejected", "problem": ItemProblem(
            title="Discarded", status=409, detail=f"Discarded by {actor.username}: {note}")})
        _set_result(db=db, now=now, result=result)
    else:
        raise InvalidInput(f"Unknown action {action!r}: retry or discard.")
    row.resolved_by_id, row.resolution_note = actor.user_id, note
    audit.record(db=db, actor=actor, action=f"sync_backlog.{action}", entity_type="sync_backlog", entity_id=row.id,
                 before=before, after={"state": row.state, "attempts": row.attempts}, reason=note)
    emit(db=db, event_type=f"sync_backlog.{action}", entity_type="sync_backlog", entity_id=row.id,
         payload={"mutation_uuid": str(row.mutation_uuid), "state": row.state})
    return row


def _stored(db: Session, mutation_uuid: UUID) -> ItemResult:
    return ItemResult.model_validate(db.scalar(select(SyncMutation.result).where(SyncMutation.uuid == mutation_uuid)))


def _set_result(*, db: Session, now: datetime, result: ItemResult) -> None:
    db.execute(update(SyncMutation).where(SyncMutation.uuid == result.uuid).values(
        status=result.status, result=result.model_dump(mode="json"), entity_type=result.entity_type,
        entity_id=result.entity_id, updated_at=now))
