"""The tasks a reading opens: a follow-up for an anomaly (a fault visit, or a usage inspection for
suspected theft) left for dispatchers to assign, and a re-read for a locked door, given to the book's
reader within the same reading window.

If the window has already ended when the door is found locked, the re-read is still created (the
customer must be read, not estimated), due `late_reread_days` (data) after now.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from geoalchemy2.shape import to_shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import outbox
from core.context import Actor
from gis.customers.models import Customer
from inspections import history
from inspections import service as task_service
from inspections.models import FieldTask
from inspections.readings.models import MeterReading, ReadingBook, ReadingRound
from inspections.readings.rules import AnomalyCode, ReadingRules
from inspections.specs import TaskSpec
from inspections.workflow import TaskType


def _origin(reading: MeterReading) -> dict[str, object]:
    return {"kind": "reading", "id": reading.id, "customer_id": reading.customer_id, "period": reading.period}


def open_follow_up(*, db: Session, actor: Actor, now: datetime, reading: MeterReading, customer: Customer,
                   anomaly: AnomalyCode) -> FieldTask | None:
    """The anomaly's follow-up task (planned, no assignee), and its event when the anomaly has one."""
    location = to_shape(customer.geom)
    task = None
    if anomaly.follow_up_task_type:
        task = task_service.create_task(db=db, actor=actor, now=now, spec=TaskSpec(
            task_type=TaskType(anomaly.follow_up_task_type),
            title=f"{anomaly.label}: meter {customer.meter_number or customer.account_number}",
            due_from=now, due_until=now + timedelta(hours=anomaly.due_hours), asset_type="customer", asset_id=customer.id,
            priority=anomaly.priority, notes=reading.note, parent_task_id=reading.task_id, origin=_origin(reading)))
    if anomaly.event_type:
        outbox.emit(db=db, event_type=anomaly.event_type, entity_type="meter_reading", entity_id=reading.id,
                    payload={"customer_id": customer.id, "account_number": customer.account_number,
                             "period": reading.period, "follow_up_task_id": task.id if task else None,
                             "location": history.geojson(customer.geom)},
                    location_wkt=location.wkt)
    return task


def reread_window(*, db: Session, rules: ReadingRules, now: datetime, book_id: int,
                  period: str) -> tuple[datetime, datetime]:
    """When the re-read is due: within what is left of the round's window (the rules' window for
    the period when no round was opened), or `late_reread_days` from now once it has ended."""
    window = db.execute(select(ReadingRound.window_start, ReadingRound.window_end)
                        .where(ReadingRound.book_id == book_id, ReadingRound.period == period)).one_or_none()
    start, end = window if window is not None else rules.window.for_period(period)
    if now < end:
        return max(now, start), end
    return now, now + timedelta(days=rules.late_reread_days)


def open_reread(*, db: Session, actor: Actor, now: datetime, rules: ReadingRules, reading: MeterReading,
                customer: Customer, book: ReadingBook) -> FieldTask:
    due_from, due_until = reread_window(db=db, rules=rules, now=now, book_id=book.id, period=reading.period)
    return task_service.create_task(db=db, actor=actor, now=now, spec=TaskSpec(
        task_type=TaskType.meter_reread, title=f"Re-read meter {customer.meter_number or customer.account_number} "
                                               f"({reading.period}): door was locked",
        due_from=due_from, due_until=due_until, asset_type="customer", asset_id=customer.id,
        assignee_id=book.reader_id, parent_task_id=reading.task_id, origin=_origin(reading)))
