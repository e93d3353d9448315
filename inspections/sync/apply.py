"""Applying pushed items: each item's handler as if in its own savepoint, and what became of it.

Shared by the push (a batch's new items) and the backlog (an item whose parent has arrived), so an
item is judged the same way whenever it is applied. The caller records the result on the item's
mutation and, for `queued`, keeps the item in the backlog.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from core import errors
from core.context import Actor
from core.errors import GridWardenError, ServiceUnavailable
from core.settings import Settings
from inspections.sync import conflicts, position_mutations
from inspections.sync.clock import is_skewed
from inspections.sync.kinds import HANDLERS
from inspections.sync.mutations import Handler, ItemContext, WaitingForParent
from inspections.sync.push_schemas import ItemProblem, ItemResult, PushItemIn
from inspections.sync.push_settings import push_settings
from inspections.sync.settings import sync_settings

# The HTTP status each domain error would have had as a response (api.errors), for the item's problem.
STATUS_BY_ERROR: dict[type[GridWardenError], int] = {
    errors.InvalidInput: 422, errors.PermissionDenied: 403, errors.NotFound: 404, errors.Conflict: 409,
    errors.StaleVersion: 412, errors.PreconditionRequired: 428}


# What makes an item fail on its own (rejected or queued); anything else (the database gone) fails the batch.
ITEM_FAILURES = (WaitingForParent, GridWardenError, IntegrityError, DataError)


def apply_items(*, db: Session, actor: Actor, now: datetime, settings: Settings, items: list[PushItemIn],
                device_id: int, skew_s: float | None) -> dict[UUID, ItemResult]:
    """Apply new items in order, each as if in its own savepoint, at the cost of one savepoint per group:
    a group of `savepoint_group_items` runs in one savepoint; when one of its items fails, the group is
    rolled back and run again item by item, each in its own savepoint (failures are the exception, and
    a savepoint is two round trips to the database)."""
    size = push_settings(settings).savepoint_group_items
    task_ids: dict[UUID, int] = {}
    results = _pings(db=db, actor=actor, now=now, settings=settings, device_id=device_id, skew_s=skew_s,
                     items=[i for i in items if i.kind == position_mutations.KIND])
    items = [i for i in items if i.kind != position_mutations.KIND]
    for start in range(0, len(items), size):
        group = items[start:start + size]
        try:
            with db.begin_nested():
                outcome = {i.uuid: apply_item(db=db, actor=actor, now=now, settings=settings, item=i,
                                              device_id=device_id, skew_s=skew_s, isolated=False, task_ids=task_ids)
                           for i in group}
        except ServiceUnavailable:
            raise
        except ITEM_FAILURES:
            task_ids.clear()  # a task the group created is gone with it
            outcome = {i.uuid: apply_item(db=db, actor=actor, now=now, settings=settings, item=i,
                                          device_id=device_id, skew_s=skew_s, task_ids=task_ids) for i in group}
        results.update(outcome)
    return results


def _unapplied(item: PushItemIn, settings: Settings, skew_s: float | None) -> ItemResult:
    """An item's result before it is applied: rejected until it is, with the batch's clock skew."""
    flagged = skew_s is not None and is_skewed(skew_s, threshold_s=sync_settings(settings).clock_skew_threshold_s)
    return ItemResult(uuid=item.uuid, kind=item.kind, status="rejected", clock_skew_s=skew_s,
                      clock_skew_flagged=flagged)


def _pings(*, db: Session, actor: Actor, now: datetime, settings: Settings, device_id: int, skew_s: float | None,
           items: list[PushItemIn]) -> dict[UUID, ItemResult]:
    """A batch's GPS pings, stored together (`position_mutations.store_pings`): most of an offline day's
    items are pings, which depend on nothing, so they need no savepoint each."""
    if not items:
        return {}
    stored, refused = position_mutations.store_pings(db=db, actor=actor, now=now, settings=settings, items=items,
                                                     device_id=device_id, skew_s=skew_s)
    results = {}
    for item in items:
        if item.uuid in refused:
            update: dict[str, Any] = {"problem": problem_of(refused[item.uuid])}
        else:
            update = {"status": "applied", "entity_type": position_mutations.KIND, "entity_id": str(stored[item.uuid])}
        results[item.uuid] = _unapplied(item, settings, skew_s).model_copy(update=update)
    return results


def apply_item(*, db: Session, actor: Actor, now: datetime, settings: Settings, item: PushItemIn, device_id: int,
               skew_s: float | None, isolated: bool = True, task_ids: dict[UUID, int] | None = None) -> ItemResult:
    """Run one item's handler and say what became of it (not yet recorded). `isolated`: in its own
    savepoint, its failure becoming its result; otherwise the failure is raised (`apply_items`)."""
    base = _unapplied(item, settings, skew_s)
    handler = HANDLERS.get(item.kind)
    if handler is None:
        return base.model_copy(update={"problem": ItemProblem(
            title="Invalid input", status=422, detail=f"Unknown kind {item.kind!r}; known kinds: "
                                                      f"{', '.join(sorted(HANDLERS))}.")})
    ctx = ItemContext(db=db, actor=actor, now=now, settings=settings, uuid=item.uuid, kind=item.kind,
                      base_version=item.base_version, device_time=item.device_time, data=item.data,
                      device_id=device_id, skew_s=skew_s, task_ids={} if task_ids is None else task_ids)
    if not isolated:
        return _applied(base, ctx, handler)
    try:
        with db.begin_nested():
            return _applied(base, ctx, handler)
    except WaitingForParent as waiting:
        return base.model_copy(update={"status": "queued", "waiting_for": {
            "entity_type": waiting.entity_type, "uuid": str(waiting.uuid)}})
    except ServiceUnavailable:
        raise
    except GridWardenError as exc:
        return base.model_copy(update={"problem": problem_of(exc)})
    except (IntegrityError, DataError):
        return base.model_copy(update={"problem": ItemProblem(
            title="Conflict", status=409, detail="The item clashes with a record already on the server.")})


def _applied(base: ItemResult, ctx: ItemContext, handler: Handler) -> ItemResult:
    change = handler(ctx)
    kept = conflicts.keep(db=ctx.db, mutation_uuid=ctx.uuid, change=change, base_version=ctx.base_version,
                          now=ctx.now)
    status = "conflict" if kept else "merged" if change.stale else "applied"
    return base.model_copy(update={"status": status, "entity_type": change.entity_type,
                                   "entity_id": str(change.entity_id), "version": change.version,
                                   "applied": list(change.applied), "conflicts": kept})


def problem_of(exc: GridWardenError) -> ItemProblem:
    """The item's rejection as the error's problem+json would have said it."""
    field_errors: list[dict[str, Any]] = getattr(exc, "errors", [])
    status = next((STATUS_BY_ERROR[c] for c in type(exc).__mro__ if c in STATUS_BY_ERROR), 400)
    return ItemProblem(title=exc.title, status=status, detail=exc.detail, errors=field_errors)
