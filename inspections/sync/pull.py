"""Pull: what an inspector's device should hold, sent as the changes since what it holds, in pages.

The server keeps a shadow of what each device holds (`device_sync_items`: entity, fingerprint). A pull
*generation* starts by comparing the current scope (`inspections.sync.scope`) with the shadow: new or
changed records become upserts, records that left the scope (re-assigned tasks, deleted or distant
assets) become deletions. That list (`device_sync_changes`, in a stable order: tasks, checklists, map)
is sent page by page; each answer carries a cursor naming (generation, position of its last change).

The shadow advances only when the device comes back with a cursor: everything up to its position is
then known to have arrived. A device that lost an answer sends the cursor it had before and gets the
same page again; nothing is skipped. The last page's cursor is kept by the device for its next pull,
which acknowledges the rest and starts the next generation (only the changes since). No cursor means
a full snapshot: the shadow is forgotten and everything in scope is sent.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    ARRAY,
    Integer,
    Text,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    null,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from core.context import Actor
from core.errors import Conflict, InvalidInput
from core.settings import Settings
from inspections.sync import devices
from inspections.sync.models import Device, DeviceSyncChange, DeviceSyncItem
from inspections.sync.render import render
from inspections.sync.scope import ScopeParams, entity_order, scope_statement
from inspections.sync.settings import SyncSettings, sync_settings

Position = tuple[int, int, int]  # (device id, generation, position of the last change acknowledged)


@dataclass(frozen=True)
class PulledItem:
    op: Literal["upsert", "delete"]
    entity_type: str
    id: int
    version: str | None
    data: dict[str, Any] | None


@dataclass(frozen=True)
class PulledPage:
    items: list[PulledItem]
    position: Position
    has_more: bool
    counts: dict[str, int]


def _start_generation(db: Session, *, device_id: int, generation: int, settings: SyncSettings,
                      params: ScopeParams) -> None:
    """Write the changes between the scope now and the device's shadow, numbered in a stable order."""
    scope = scope_statement(settings).cte("scope")
    shadow = select(DeviceSyncItem).where(DeviceSyncItem.device_id == device_id).cte("shadow")
    same = and_(shadow.c.entity_type == scope.c.entity_type, shadow.c.entity_id == scope.c.entity_id)
    changes = union_all(
        select(scope.c.entity_type, scope.c.entity_id, scope.c.fingerprint)
        .select_from(scope.outerjoin(shadow, same))
        .where(shadow.c.fingerprint.is_distinct_from(scope.c.fingerprint)),
        select(shadow.c.entity_type, shadow.c.entity_id, null())
        .select_from(shadow.outerjoin(scope, same)).where(scope.c.entity_id.is_(None)),
    ).subquery("changes")
    rank = func.array_position(bindparam("entity_order", type_=ARRAY(Text)), changes.c.entity_type)
    numbered = select(literal(device_id), literal(generation, Integer),
                      func.row_number().over(order_by=(rank, changes.c.entity_id)),
                      changes.c.entity_type, changes.c.entity_id, changes.c.fingerprint)
    # Through the connection: with parameters, the ORM session would take an INSERT for a bulk of rows.
    db.connection().execute(insert(DeviceSyncChange).from_select(
        ["device_id", "generation", "seq", "entity_type", "entity_id", "fingerprint"], numbered),
        {**params.bind(), "entity_order": entity_order(settings)})


def _acknowledge(db: Session, *, device_id: int, generation: int, position: int) -> None:
    """The device holds every change of `generation` up to `position`: move them into the shadow."""
    acknowledged = and_(DeviceSyncChange.device_id == device_id, DeviceSyncChange.generation == generation,
                        DeviceSyncChange.seq <= position)
    upserts = pg_insert(DeviceSyncItem).from_select(
        ["device_id", "entity_type", "entity_id", "fingerprint"],
        select(DeviceSyncChange.device_id, DeviceSyncChange.entity_type, DeviceSyncChange.entity_id,
               DeviceSyncChange.fingerprint).where(acknowledged, DeviceSyncChange.fingerprint.is_not(None)))
    db.execute(upserts.on_conflict_do_update(index_elements=["device_id", "entity_type", "entity_id"],
                                             set_={"fingerprint": upserts.excluded.fingerprint}))
    gone = select(DeviceSyncChange.entity_type, DeviceSyncChange.entity_id).where(
        acknowledged, DeviceSyncChange.fingerprint.is_(None))
    db.execute(delete(DeviceSyncItem).where(DeviceSyncItem.device_id == device_id,
                                            tuple_(DeviceSyncItem.entity_type, DeviceSyncItem.entity_id).in_(gone)))
    db.execute(delete(DeviceSyncChange).where(acknowledged))


def pull_page(*, db: Session, actor: Actor, settings: Settings, now: datetime, device_id: int,
              position: Position | None, limit: int | None) -> PulledPage:
    """The page after `position` (the cursor the device was last given), or the first page of a full
    snapshot when there is none. See the module docstring for how the cursor moves."""
    sync = sync_settings(settings)
    size = limit or sync.pull_default_page_size
    if size > sync.pull_max_page_size:
        raise InvalidInput(f"limit may be at most {sync.pull_max_page_size}.",
                           errors=[{"field": "limit", "message": f"max {sync.pull_max_page_size}"}])
    device = devices.lock_for_pull(db=db, actor=actor, device_id=device_id, now=now)
    params = ScopeParams.of(user_id=device.user_id, now=now, settings=sync)
    if position is None:
        db.execute(delete(DeviceSyncChange).where(DeviceSyncChange.device_id == device.id))
        db.execute(delete(DeviceSyncItem).where(DeviceSyncItem.device_id == device.id))
        after = _next_generation(db, device=device, settings=sync, params=params)
    else:
        cursor_device, generation, after = position
        if cursor_device != device.id or generation > device.pull_generation:
            raise InvalidInput("cursor is not one this device was given.",
                               errors=[{"field": "cursor", "message": "not this device's"}])
        if generation == device.pull_generation:
            _acknowledge(db, device_id=device.id, generation=generation, position=after)
            if not _remaining(db, device_id=device.id, generation=generation, after=after):
                after = _next_generation(db, device=device, settings=sync, params=params)
        elif generation == device.pull_generation - 1:
            after = 0  # the answer that started this generation was lost: send its first page again
        else:
            raise Conflict("This cursor belongs to a pull long finished; pull without a cursor for a full snapshot.")
    rows = list(db.execute(select(DeviceSyncChange.seq, DeviceSyncChange.entity_type, DeviceSyncChange.entity_id,
                                  DeviceSyncChange.fingerprint)
                           .where(DeviceSyncChange.device_id == device.id,
                                  DeviceSyncChange.generation == device.pull_generation, DeviceSyncChange.seq > after)
                           .order_by(DeviceSyncChange.seq).limit(size + 1)))
    page, has_more = rows[:size], len(rows) > size
    data = render(db=db, actor=actor, settings=sync, wanted=[(r.entity_type, r.entity_id) for r in page
                                                             if r.fingerprint is not None])
    items = [_item(r.entity_type, r.entity_id, r.fingerprint, data) for r in page]
    counts = Counter(f"{item.entity_type}.{item.op}" for item in items)
    last = page[-1].seq if page else after
    return PulledPage(items=items, position=(device.id, device.pull_generation, last), has_more=has_more,
                      counts=dict(counts))


def _item(entity_type: str, entity_id: int, fingerprint: str | None,
          data: dict[tuple[str, int], dict[str, Any]]) -> PulledItem:
    found = data.get((entity_type, entity_id)) if fingerprint is not None else None
    if found is None:
        # Deleted, or gone between the comparison and this page: the device drops it (and the shadow
        # keeps it until the next generation finds it gone, so it is sent as a deletion again then).
        return PulledItem(op="delete", entity_type=entity_type, id=entity_id, version=None, data=None)
    return PulledItem(op="upsert", entity_type=entity_type, id=entity_id, version=fingerprint, data=found)


def _remaining(db: Session, *, device_id: int, generation: int, after: int) -> bool:
    """Changes of `generation` are left after `after` (asked on every page: stops at the first one)."""
    return bool(db.scalar(select(exists().where(
        DeviceSyncChange.device_id == device_id, DeviceSyncChange.generation == generation,
        DeviceSyncChange.seq > after))))


def _next_generation(db: Session, *, device: Device, settings: SyncSettings, params: ScopeParams) -> int:
    """Start the device's next generation; the position before its first change (0)."""
    device.pull_generation += 1
    db.flush()
    db.execute(delete(DeviceSyncChange).where(DeviceSyncChange.device_id == device.id,
                                              DeviceSyncChange.generation < device.pull_generation - 1))
    _start_generation(db, device_id=device.id, generation=device.pull_generation, settings=settings, params=params)
    return 0
