"""What a handler of a pushed item is given and returns, and the helpers every handler uses.

One handler per kind (`inspections.sync.kinds`): it checks the item's `data`, calls the owning
domain's service (never writes another domain's tables itself) and says what changed.

A handler raises a `core.errors` exception to reject its item, or `WaitingForParent` when the item
refers (by uuid) to a record the server has not received yet: the push then keeps it in the backlog.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.context import Actor
from core.errors import InvalidInput
from core.settings import Settings
from inspections.models import FieldTask


@dataclass(frozen=True)
class ItemContext:
    """Everything a handler may use: the unit of work, who pushed, when, and the item itself."""

    db: Session
    actor: Actor
    now: datetime
    settings: Settings
    uuid: UUID
    kind: str
    base_version: int | None
    device_time: datetime | None
    data: dict[str, Any]
    # The pushing device, and how far its clock was off when it sent the batch (seconds).
    device_id: int
    skew_s: float | None
    # Task ids by uuid found so far in this batch (a task's id never changes; its rows are read anew).
    task_ids: dict[UUID, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Change:
    """What an item did to its entity. `conflicts`: field -> (server value, device value), kept by
    the push in `sync_conflicts`; `stale`: the device's base version was behind (merged)."""

    entity_type: str
    entity_id: int
    version: int | None = None
    applied: tuple[str, ...] = ()
    conflicts: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    stale: bool = False


class WaitingForParent(Exception):
    """The item names a parent the server has not seen; it waits in the backlog for it."""

    def __init__(self, entity_type: str, uuid: UUID) -> None:
        super().__init__(f"{entity_type} {uuid} is not on the server yet")
        self.entity_type = entity_type
        self.uuid = uuid


Handler = Callable[[ItemContext], Change]
# Parents an item may wait for, by the `waiting_for_type` the backlog stores.
PARENTS: dict[str, Any] = {"field_task": FieldTask}

M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], ctx: ItemContext) -> M:
    """The item's `data` as `model`, or InvalidInput naming each wrong field (the item is rejected)."""
    try:
        return model.model_validate(ctx.data)
    except ValidationError as exc:
        errors = [{"field": "data." + ".".join(str(p) for p in err["loc"]), "message": err["msg"]}
                  for err in exc.errors()]
        raise InvalidInput(f"The {ctx.kind} item's data is not valid.", errors=errors) from exc


def require_base_version(ctx: ItemContext) -> int:
    if ctx.base_version is None:
        raise InvalidInput(f"A {ctx.kind} item must say which version it edited (base_version).",
                           errors=[{"field": "base_version", "message": "required for this kind"}])
    return ctx.base_version


def task_id_for(ctx: ItemContext, task_uuid: UUID) -> int:
    """The id of the task with this uuid, or WaitingForParent when the server has not received it."""
    task_id = ctx.task_ids.get(task_uuid) or ctx.db.scalar(select(FieldTask.id).where(FieldTask.uuid == task_uuid))
    if task_id is None:
        raise WaitingForParent("field_task", task_uuid)
    ctx.task_ids[task_uuid] = task_id
    return task_id


def parent_exists(db: Session, entity_type: str, uuid: UUID) -> bool:
    model = PARENTS[entity_type]
    return db.scalar(select(model.id).where(model.uuid == uuid)) is not None
