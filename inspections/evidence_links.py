"""Photos attached to field work: a task, a finding, a meter reading.

All three are made on the inspector's device with a uuid of its own, so a photo may reach the
server before its record has been pushed (`deferred`): the reference is that uuid. What the photo
must be near: the task's location (its asset's geometry: the line itself for a patrol), the
finding's place, the meter's customer. A finding's and a reading's time window is their task's.

Who attaches: the inspector whose work it is (the task's assignee, the finding's reporter, the
reading's reader) and the planners; who sees: whoever may see the task (`inspections.access`), or
for a reading, the reading's reader and book holder and the desk roles.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.context import Actor
from core.permissions import Role, has_permission
from gis.customers.models import Customer
from inspections.access import can_see, is_assignee
from inspections.models import FieldTask, Finding
from inspections.permissions import TASKS_PLAN
from inspections.readings.models import MeterReading, ReadingBook
from inspections.readings.permissions import READING_BOOKS_MANAGE, READINGS_READ
from media.link_refs import uuid_ref
from media.links import LinkedRecord


def _window(task: FieldTask | None) -> tuple[datetime, datetime] | None:
    return (task.due_from, task.due_until) if task is not None else None


def _may_attach_to_task_work(actor: Actor, task: FieldTask) -> bool:
    return is_assignee(actor, task) or has_permission(actor.role, TASKS_PLAN)


class TaskLink:
    kind = "task"
    deferred = True

    def normalise_ref(self, ref: str) -> str:
        return uuid_ref(ref)

    def find(self, *, db: Session, ref: str) -> LinkedRecord | None:
        row = db.execute(select(FieldTask, func.ST_AsText(FieldTask.location)).where(FieldTask.uuid == ref)).one_or_none()
        if row is None:
            return None
        task, wkt = row
        return LinkedRecord(kind=self.kind, ref=ref, record_id=task.id, geometry_wkt=wkt, entity_type="field_task",
                            window=_window(task), task_type=task.task_type)

    def may_attach(self, *, db: Session, actor: Actor, record: LinkedRecord) -> bool:
        task = db.get(FieldTask, record.record_id)
        return task is not None and _may_attach_to_task_work(actor, task)

    def may_view(self, *, db: Session, actor: Actor, record: LinkedRecord) -> bool:
        task = db.get(FieldTask, record.record_id)
        return task is not None and can_see(actor, task)


class FindingLink:
    kind = "finding"
    deferred = True

    def normalise_ref(self, ref: str) -> str:
        return uuid_ref(ref)

    def find(self, *, db: Session, ref: str) -> LinkedRecord | None:
        row = db.execute(select(Finding, func.ST_AsText(Finding.geom)).where(Finding.uuid == ref)).one_or_none()
        if row is None:
            return None
        finding, wkt = row
        task = db.get(FieldTask, finding.task_id)
        return LinkedRecord(kind=self.kind, ref=ref, record_id=finding.id, geometry_wkt=wkt, entity_type="finding",
                            window=_window(task), task_type=task.task_type if task else None)

    def may_attach(self, *, db: Session, actor: Actor, record: LinkedRecord) -> bool:
        finding = db.get(Finding, record.record_id)
        if finding is None:
            return False
        if actor.user_id is not None and finding.reported_by_id == actor.user_id:
            return True
        task = db.get(FieldTask, finding.task_id)
        return task is not None and _may_attach_to_task_work(actor, task)

    def may_view(self, *, db: Session, actor: Actor, record: LinkedRecord) -> bool:
        finding = db.get(Finding, record.record_id)
        task = db.get(FieldTask, finding.task_id) if finding else None
        return task is not None and can_see(actor, task)


class ReadingLink:
    kind = "reading"
    deferred = True

    def normalise_ref(self, ref: str) -> str:
        return uuid_ref(ref)

    def find(self, *, db: Session, ref: str) -> LinkedRecord | None:
        row = db.execute(select(MeterReading, func.ST_AsText(Customer.geom))
                         .join(Customer, Customer.id == MeterReading.customer_id)
                         .where(MeterReading.uuid == ref)).one_or_none()
        if row is None:
            return None
        reading, wkt = row
        task = db.get(FieldTask, reading.task_id) if reading.task_id else None
        return LinkedRecord(kind=self.kind, ref=ref, record_id=reading.id, geometry_wkt=wkt,
                            entity_type="meter_reading", window=_window(task),
                            task_type=task.task_type if task else "meter_reading")

    def _own(self, db: Session, actor: Actor, reading: MeterReading) -> bool:
        if actor.user_id is None:
            return False
        book_reader: Any = db.scalar(select(ReadingBook.reader_id).where(ReadingBook.id == reading.book_id))
        return actor.user_id in (reading.reader_id, book_reader)

    def may_attach(self, *, db: Session, actor: Actor, record: LinkedRecord) -> bool:
        reading = db.get(MeterReading, record.record_id)
        if reading is None:
            return False
        return has_permission(actor.role, READING_BOOKS_MANAGE) or self._own(db, actor, reading)

    def may_view(self, *, db: Session, actor: Actor, record: LinkedRecord) -> bool:
        reading = db.get(MeterReading, record.record_id)
        if reading is None or not has_permission(actor.role, READINGS_READ):
            return False
        # As the reading list: an inspector sees the readings of their own books and their own readings.
        return actor.role is not Role.inspector or self._own(db, actor, reading)


TASK_LINK = TaskLink()
FINDING_LINK = FindingLink()
READING_LINK = ReadingLink()
