"""The push protocol: a batch of mutations from a device, each applied on its own.

Per item, in order:
1. Idempotency. Every item's uuid is claimed in `sync_mutations` first (one INSERT .. ON CONFLICT
   DO NOTHING for the batch, in uuid order so two batches never deadlock). A uuid already there is a
   replay: same content fingerprint -> `duplicate` with the original result; other content ->
   `rejected` for that item (the original stays). A concurrent push of the same uuid waits for the
   first to commit, then sees it as a replay.
2. Otherwise the item's handler (`inspections.sync.kinds`) runs as if in its own savepoint (see
   `inspections.sync.apply.apply_items`): a domain error rolls back that item only and becomes `rejected` with the error's detail; an item whose
   parent is missing is `queued` in the backlog; a stale update is `merged`, or `conflict` with the
   clashing fields kept in `sync_conflicts`.
3. Items waiting for a parent this batch created are applied before the batch commits.

The batch is one unit of work (the caller commits once). A database fault propagates (503) and the
device sends the batch again: the claims roll back with it, so the retry is applied, not replayed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.context import Actor
from core.errors import PayloadTooLarge
from core.fingerprint import json_fingerprint
from core.settings import Settings
from inspections.sync import backlog
from inspections.sync.apply import apply_items
from inspections.sync.clock import clock_skew
from inspections.sync.models import Device
from inspections.sync.push_models import SyncMutation
from inspections.sync.push_schemas import ItemProblem, ItemResult, PushIn, PushItemIn, PushOut
from inspections.sync.push_settings import push_settings


def fingerprint(item: PushItemIn) -> str:
    """The item's content: what it does (kind, base version, data). Its uuid is the key, not content."""
    return json_fingerprint({"kind": item.kind, "base_version": item.base_version,
                             "data": item.model_dump(mode="json")["data"]})


def push(*, db: Session, actor: Actor, now: datetime, settings: Settings, batch: PushIn,
         device_id: int) -> PushOut:
    """Apply a batch; one result per item, in the order sent."""
    config = push_settings(settings)
    if len(batch.items) > config.max_batch_items:
        raise PayloadTooLarge(f"A push may carry at most {config.max_batch_items} items; this one has "
                              f"{len(batch.items)}. Send them in several batches.",
                              max_items=config.max_batch_items)
    skew_s = clock_skew(batch.device_time, now)
    first_by_uuid: dict[UUID, PushItemIn] = {}
    for item in batch.items:
        first_by_uuid.setdefault(item.uuid, item)
    prints = {u: fingerprint(i) for u, i in first_by_uuid.items()}
    claimed = _claim(db=db, actor=actor, now=now, device_id=device_id, items=first_by_uuid, prints=prints,
                     skew_s=skew_s)
    earlier = _recorded(db, set(first_by_uuid) - claimed)
    new_items = [item for u, item in first_by_uuid.items() if u in claimed]
    # Held for the batch: the session's identity map keeps only what is referenced, and every ping
    # looks its device up (`record_ping`), which is then answered without a query.
    pushing_device = db.get(Device, device_id)
    done = apply_items(db=db, actor=actor, now=now, settings=settings, items=new_items, device_id=device_id,
                       skew_s=skew_s)
    del pushing_device
    for item in new_items:
        if done[item.uuid].status == "queued":
            backlog.enqueue(db=db, actor=actor, now=now, item=item, result=done[item.uuid])
    results: list[ItemResult] = []
    answered: set[UUID] = set()
    for item in batch.items:
        if item.uuid in done and item.uuid not in answered:
            answered.add(item.uuid)
            results.append(done[item.uuid])
            continue
        earlier_print, original = (prints[item.uuid], done[item.uuid]) if item.uuid in done else earlier[item.uuid]
        results.append(_replay(item, original, same_content=fingerprint(item) == earlier_print))
    _record(db=db, now=now, results=done.values())
    if any(r.status in ("applied", "merged", "conflict") for r in done.values()):
        applied = backlog.apply_waiting(db=db, now=now, settings=settings)
        results = [_latest(r, applied) for r in results]
    return PushOut(server_time=now, results=results)


def _claim(*, db: Session, actor: Actor, now: datetime, device_id: int, items: dict[UUID, PushItemIn],
           prints: dict[UUID, str], skew_s: float) -> set[UUID]:
    """Insert a pending row per new uuid; returns the uuids this batch owns (the others are replays)."""
    if not items:
        return set()
    rows: list[dict[str, Any]] = [{"uuid": u, "device_id": device_id, "user_id": actor.user_id, "kind": i.kind, "fingerprint": prints[u],
             "base_version": i.base_version, "device_time": i.device_time, "server_time": now, "skew_s": skew_s,
             "status": "pending", "result": {}, "updated_at": now} for u, i in sorted(items.items())]
    statement = insert(SyncMutation).values(rows).on_conflict_do_nothing().returning(SyncMutation.uuid)
    return set(db.scalars(statement))


def _recorded(db: Session, uuids: set[UUID]) -> dict[UUID, tuple[str, ItemResult]]:
    """The fingerprint and stored result of mutations pushed before."""
    if not uuids:
        return {}
    rows = db.execute(select(SyncMutation.uuid, SyncMutation.fingerprint, SyncMutation.result)
                      .where(SyncMutation.uuid.in_(uuids)))
    return {u: (print_, ItemResult.model_validate(result)) for u, print_, result in rows}


def _replay(item: PushItemIn, original: ItemResult, *, same_content: bool) -> ItemResult:
    if same_content:
        return ItemResult(uuid=item.uuid, kind=item.kind, status="duplicate", original=original)
    return ItemResult(uuid=item.uuid, kind=item.kind, status="rejected", problem=ItemProblem(
        title="Conflict", status=409, detail="uuid reused with different content: this uuid was already pushed "
                                             "with another content; the original stays. Use a new uuid."))


def _record(*, db: Session, now: datetime, results: Any) -> None:
    """Store each applied item's result on its mutation row (one statement for the batch)."""
    rows = [{"uuid": r.uuid, "status": r.status, "result": r.model_dump(mode="json"), "entity_type": r.entity_type,
             "entity_id": r.entity_id, "updated_at": now} for r in results]
    if rows:
        db.execute(update(SyncMutation), rows)


def _latest(result: ItemResult, applied: dict[UUID, ItemResult]) -> ItemResult:
    """A queued item whose parent arrived later in the same batch answers with what it became."""
    if result.status == "queued" and result.uuid in applied:
        return applied[result.uuid]
    return result


def mutation_results(*, db: Session, actor: Actor, uuids: list[UUID]) -> list[ItemResult]:
    """The current result of the caller's own mutations (a queued item's result once applied)."""
    rows = db.scalars(select(SyncMutation.result).where(SyncMutation.uuid.in_(uuids),
                                                        SyncMutation.user_id == actor.user_id))
    return [ItemResult.model_validate(result) for result in rows]
