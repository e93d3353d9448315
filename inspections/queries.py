"""Lists of tasks: the dispatcher's board and the inspector's own list, filtered and keyset paged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from core.context import Actor
from inspections import access
from inspections.models import FieldTask


@dataclass(frozen=True)
class TaskFilter:
    state: str | None = None
    task_type: str | None = None
    assignee_id: int | None = None
    due_before: datetime | None = None  # window ends before this moment
    due_after: datetime | None = None  # window ends at or after this moment
    bbox: tuple[float, float, float, float] | None = None  # WGS84 min lon, min lat, max lon, max lat
    after_id: int | None = None
    limit: int = 100


def list_tasks(*, db: Session, actor: Actor, query: TaskFilter) -> list[FieldTask]:
    """Tasks in id order; an inspector's list holds only the tasks assigned to them."""
    stmt = select(FieldTask).options(selectinload(FieldTask.findings))
    if not access.sees_every_task(actor):
        stmt = stmt.where(FieldTask.assignee_id == actor.user_id)
    if query.state:
        stmt = stmt.where(FieldTask.state == query.state)
    if query.task_type:
        stmt = stmt.where(FieldTask.task_type == query.task_type)
    if query.assignee_id:
        stmt = stmt.where(FieldTask.assignee_id == query.assignee_id)
    if query.due_before:
        stmt = stmt.where(FieldTask.due_until < query.due_before)
    if query.due_after:
        stmt = stmt.where(FieldTask.due_until >= query.due_after)
    if query.bbox:
        stmt = stmt.where(func.ST_Intersects(FieldTask.location, func.ST_MakeEnvelope(*query.bbox, 4326)))
    if query.after_id:
        stmt = stmt.where(FieldTask.id > query.after_id)
    return list(db.scalars(stmt.order_by(FieldTask.id).limit(query.limit)))
