"""Recording meter readings: `submit_reading` (the API and the sync push both call it) and the lists.

A reading is checked (`validation.assess`) against the customer's previous valid reading, stored,
audited, announced (`reading.recorded`), and opens what its codes ask for (`follow_ups`). The
device's uuid makes a retry harmless: the same uuid with the same content is the first reading, with
other content a 409. A correction names the reading it corrects, which is superseded, not changed.

Keyword-only functions, no HTTP, no commit: the caller's unit of work owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import outbox
from core.audit import service as audit_service
from core.context import Actor
from core.errors import Conflict, InvalidInput, PermissionDenied
from core.permissions import Role
from gis.customers.models import Customer
from inspections.models import FieldTask
from inspections.readings import follow_ups
from inspections.readings.models import MeterReading, ReadingBook, ReadingBookCustomer, ReadingRound
from inspections.readings.rules import PERIOD_PATTERN, reading_rules
from inspections.readings.specs import VALUE_QUANTUM, ReadingSpec
from inspections.readings.validation import PreviousReading, assess
from inspections.workflow import OPEN_STATES, TaskType

ENTITY = "meter_reading"


def _snapshot(reading: MeterReading) -> dict[str, Any]:
    return {"uuid": str(reading.uuid), "customer_id": reading.customer_id, "period": reading.period,
            "value": None if reading.value is None else str(reading.value), "status": reading.status,
            "reason_code": reading.reason_code, "anomaly_code": reading.anomaly_code, "estimated": reading.estimated,
            "consumption": None if reading.consumption is None else str(reading.consumption),
            "task_id": reading.task_id, "supersedes_id": reading.supersedes_id,
            "superseded_by_id": reading.superseded_by_id, "follow_up_task_id": reading.follow_up_task_id}


def _customer_and_book(db: Session, customer_id: int) -> tuple[Customer, ReadingBook]:
    row = db.execute(select(Customer, ReadingBook)
                     .join(ReadingBookCustomer, ReadingBookCustomer.customer_id == Customer.id)
                     .join(ReadingBook, ReadingBook.id == ReadingBookCustomer.book_id)
                     .where(Customer.id == customer_id, Customer.deleted_at.is_(None))).one_or_none()
    if row is None:
        raise InvalidInput(f"Customer {customer_id} is in no reading book (unknown, deleted, or the books were not "
                           "rebuilt since it was connected).", errors=[{"field": "customer_id", "message": "not in a book"}])
    return row[0], row[1]


def _task_for(db: Session, *, actor: Actor, spec: ReadingSpec, customer: Customer, book: ReadingBook) -> int | None:
    """The task the reading is done under, checked: an inspector reads only their own books' meters,
    or a meter they were sent to re-read."""
    reread = None
    if spec.task_id is not None:
        task = db.get(FieldTask, spec.task_id)
        if task is None or task.task_type not in (TaskType.meter_reading, TaskType.meter_reread):
            raise InvalidInput(f"Task {spec.task_id} is not a meter reading task.",
                               errors=[{"field": "task_id", "message": "not a meter reading task"}])
        is_round = db.scalar(select(ReadingRound.id).where(ReadingRound.task_id == task.id,
                                                           ReadingRound.book_id == book.id))
        if task.task_type == TaskType.meter_reread and task.origin.get("customer_id") == customer.id:
            reread = task
        elif is_round is None:
            raise InvalidInput(f"Task {spec.task_id} is not about customer {customer.id}.",
                               errors=[{"field": "task_id", "message": "another customer's task"}])
        task_id: int | None = task.id
    else:
        task_id = db.scalar(select(ReadingRound.task_id).where(ReadingRound.book_id == book.id,
                                                               ReadingRound.period == spec.period))
    if actor.role is Role.inspector:
        own_reread = reread is not None and reread.assignee_id == actor.user_id and reread.state in OPEN_STATES
        if book.reader_id != actor.user_id and not own_reread:
            raise PermissionDenied(f"Reading book {book.name} is not yours to read, and you have no open re-read of "
                                   "this meter.")
    return task_id


def _previous(db: Session, customer_id: int, period: str) -> PreviousReading | None:
    row = db.scalar(select(MeterReading).where(MeterReading.customer_id == customer_id, MeterReading.status == "valid",
                                               MeterReading.period < period)
                    .order_by(MeterReading.period.desc()).limit(1))
    if row is None or row.value is None:
        return None
    return PreviousReading(id=row.id, value=row.value, consumption=row.consumption)


def _corrected(db: Session, spec: ReadingSpec) -> MeterReading | None:
    """The reading a correction replaces: the same customer and period, and not itself replaced."""
    if spec.corrects_uuid is None:
        return None
    old = db.scalar(select(MeterReading).where(MeterReading.uuid == spec.corrects_uuid).with_for_update())
    if old is None or old.customer_id != spec.customer_id or old.period != spec.period:
        raise InvalidInput("corrects_uuid names no reading of this customer and period.",
                           errors=[{"field": "corrects_uuid", "message": "no such reading"}])
    if old.status == "superseded":
        raise Conflict(f"Reading {old.uuid} was already corrected (by reading {old.superseded_by_id}); correct the "
                       "newest one.", superseded_by_id=old.superseded_by_id)
    return old


def submit_reading(*, db: Session, actor: Actor, now: datetime, spec: ReadingSpec, reading_uuid: UUID,
                   device_time: datetime | None) -> tuple[MeterReading, bool]:
    """Record one reading; returns (reading, created). See the module docstring."""
    db.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(f"meter-reading:{reading_uuid}", 0))))
    if spec.value is not None:  # stored, compared and audited at the register's precision
        spec = replace(spec, value=spec.value.quantize(VALUE_QUANTUM))
    fingerprint = spec.fingerprint()
    existing = db.scalar(select(MeterReading).where(MeterReading.uuid == reading_uuid))
    if existing is not None:
        if existing.content_sha256 != fingerprint:
            raise Conflict(f"Reading {reading_uuid} was already recorded with other content; a new reading needs a "
                           "new uuid (a correction names the one it corrects).", reading_id=existing.id)
        return existing, False
    rules = reading_rules()
    if PERIOD_PATTERN.match(spec.period) and spec.period > rules.window.period_of(now):  # bad forms: assess
        raise InvalidInput(f"Period {spec.period} has not begun yet (it is {rules.window.period_of(now)} now).",
                           errors=[{"field": "period", "message": "in the future"}])
    customer, book = _customer_and_book(db, spec.customer_id)
    task_id = _task_for(db, actor=actor, spec=spec, customer=customer, book=book)
    old = _corrected(db, spec)
    if old is None and db.scalar(select(MeterReading.uuid).where(
            MeterReading.customer_id == customer.id, MeterReading.period == spec.period,
            MeterReading.status == "valid")) is not None:
        raise Conflict(f"Customer {customer.account_number} already has a reading for {spec.period}; send a "
                       "correction (corrects_uuid) to replace it.")
    previous = _previous(db, customer.id, spec.period)
    assessment = assess(spec=spec, rules=rules, category=customer.category, key_account=customer.key_account,
                        previous=previous)
    reading = MeterReading(
        uuid=reading_uuid, content_sha256=fingerprint, customer_id=customer.id, book_id=book.id, task_id=task_id,
        period=spec.period, value=spec.value, read_at=now, reader_id=actor.user_id,
        device_time=device_time.astimezone(UTC) if device_time else None,
        reason_code=spec.reason_code, anomaly_code=spec.anomaly_code, note=spec.note, estimated=spec.estimated,
        previous_reading_id=previous.id if previous else None, previous_value=previous.value if previous else None,
        consumption=assessment.consumption, status=assessment.status)
    before_old = _snapshot(old) if old is not None else None
    try:
        # A savepoint: a reading that loses a race leaves the caller's session usable (a sync batch goes on).
        with db.begin_nested():
            if old is not None:
                old.status = "superseded"
                db.flush()  # the old reading leaves the one-valid-per-period index before the new one enters it
            db.add(reading)
            db.flush()
    except IntegrityError as exc:
        raise Conflict(f"Customer {customer.account_number} got a reading for {spec.period} at the same moment; "
                       "reload and send a correction if this one is still needed.") from exc
    if old is not None:
        reading.supersedes_id = old.id
        old.superseded_by_id = reading.id
        audit_service.record(db=db, actor=actor, action="meter_reading.supersede", entity_type=ENTITY,
                             entity_id=old.id, before=before_old, after=_snapshot(old))
    _open_tasks(db=db, actor=actor, now=now, reading=reading, customer=customer, book=book)
    audit_service.record(db=db, actor=actor, action="meter_reading.correct" if old else "meter_reading.record",
                         entity_type=ENTITY, entity_id=reading.id, before=None, after=_snapshot(reading))
    outbox.emit(db=db, event_type="reading.corrected" if old else "reading.recorded", entity_type=ENTITY,
                entity_id=reading.id, payload={"customer_id": customer.id, "book_id": book.id, "period": spec.period,
                                               "status": reading.status, "anomaly_code": reading.anomaly_code,
                                               "estimated": reading.estimated,
                                               "supersedes_id": reading.supersedes_id})
    return reading, True


def _open_tasks(*, db: Session, actor: Actor, now: datetime, reading: MeterReading, customer: Customer,
                book: ReadingBook) -> None:
    rules = reading_rules()
    anomaly = rules.anomaly_codes.get(reading.anomaly_code or "")
    if anomaly is None:
        return
    task: FieldTask | None
    if anomaly.reread:
        task = follow_ups.open_reread(db=db, actor=actor, now=now, rules=rules, reading=reading, customer=customer,
                                      book=book)
    else:
        task = follow_ups.open_follow_up(db=db, actor=actor, now=now, reading=reading, customer=customer,
                                         anomaly=anomaly)
    reading.follow_up_task_id = task.id if task else None


@dataclass(frozen=True)
class ReadingFilter:
    book_id: int | None = None
    period: str | None = None
    customer_id: int | None = None
    after_id: int | None = None
    limit: int = 50


def list_readings(*, db: Session, actor: Actor, query: ReadingFilter) -> list[MeterReading]:
    """Readings in id order, superseded ones included (a correction never hides what it replaced).
    An inspector sees the readings of their own books and their own readings."""
    stmt = select(MeterReading).order_by(MeterReading.id).limit(query.limit)
    if query.book_id is not None:
        stmt = stmt.where(MeterReading.book_id == query.book_id)
    if query.period is not None:
        stmt = stmt.where(MeterReading.period == query.period)
    if query.customer_id is not None:
        stmt = stmt.where(MeterReading.customer_id == query.customer_id)
    if query.after_id is not None:
        stmt = stmt.where(MeterReading.id > query.after_id)
    if actor.role is Role.inspector:
        own_books = select(ReadingBook.id).where(ReadingBook.reader_id == actor.user_id)
        stmt = stmt.where(or_(MeterReading.book_id.in_(own_books), MeterReading.reader_id == actor.user_id))
    return list(db.scalars(stmt))

