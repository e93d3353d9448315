"""Reading books: built from the customers set-based (one statement per step, however many
customers), handed to a reader, and opened for a month's round as a meter_reading task.

Keyword-only functions, no HTTP, no commit: the caller's unit of work owns the transaction.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core import outbox
from core.audit import service as audit_service
from core.context import Actor
from core.errors import InvalidInput, NotFound, StaleVersion
from core.permissions import Role, has_permission
from core.users.models import User
from gis.customers.models import Customer
from inspections import service as task_service
from inspections.readings.models import ReadingBook, ReadingBookCustomer, ReadingRound
from inspections.readings.permissions import READINGS_RECORD
from inspections.readings.rules import parse_period, reading_rules
from inspections.specs import TaskSpec
from inspections.workflow import TaskType

ENTITY = "reading_book"


@dataclass(frozen=True)
class RebuildOutcome:
    """What a rebuild changed: books created, customers added to a book, moved between books, removed
    (deleted customers or customers no longer fed by any transformer), and the books now holding customers."""

    books_created: int
    customers_added: int
    customers_moved: int
    customers_removed: int
    books_with_customers: int


_CREATE_BOOKS = text("""
INSERT INTO reading_books (transformer_id, name, customer_count, version, rebuilt_at)
SELECT t.id, coalesce(nullif(t.name, ''), t.external_id), 0, 1, :now FROM transformers t
 WHERE t.deleted_at IS NULL
   AND EXISTS (SELECT 1 FROM customers c WHERE c.transformer_id = t.id AND c.deleted_at IS NULL)
ON CONFLICT (transformer_id) DO NOTHING RETURNING id""")
# Every live customer of a live transformer with a book, in reading order (account number).
_WANTED = """
SELECT c.id AS customer_id, b.id AS book_id,
       row_number() OVER (PARTITION BY b.id ORDER BY c.account_number, c.id) AS position
  FROM customers c JOIN transformers t ON t.id = c.transformer_id AND t.deleted_at IS NULL
  JOIN reading_books b ON b.transformer_id = t.id
 WHERE c.deleted_at IS NULL"""
_COUNT_CHANGES = text(f"""
WITH wanted AS ({_WANTED})
SELECT count(*) FILTER (WHERE m.customer_id IS NULL) AS added,
       count(*) FILTER (WHERE m.book_id <> w.book_id) AS moved,
       (SELECT count(*) FROM reading_book_customers m2
         WHERE NOT EXISTS (SELECT 1 FROM wanted w2 WHERE w2.customer_id = m2.customer_id)) AS removed
  FROM wanted w LEFT JOIN reading_book_customers m ON m.customer_id = w.customer_id""")
_REMOVE = text(f"""
WITH wanted AS ({_WANTED})
DELETE FROM reading_book_customers m WHERE NOT EXISTS (SELECT 1 FROM wanted w WHERE w.customer_id = m.customer_id)""")
_UPSERT = text(f"""
INSERT INTO reading_book_customers (customer_id, book_id, position) {_WANTED}
ON CONFLICT (customer_id) DO UPDATE SET book_id = excluded.book_id, position = excluded.position
 WHERE (reading_book_customers.book_id, reading_book_customers.position)
       IS DISTINCT FROM (excluded.book_id, excluded.position)""")
_COUNT_MEMBERS = text("""
UPDATE reading_books b SET customer_count = coalesce(
       (SELECT count(*) FROM reading_book_customers m WHERE m.book_id = b.id), 0), rebuilt_at = :now""")


def rebuild_books(*, db: Session, actor: Actor, now: datetime) -> RebuildOutcome:
    """Bring every book in line with the customers' transformers: a book for each transformer that
    feeds a customer, each live customer in its transformer's book. Books are never deleted (their
    rounds and readings point at them); an emptied book keeps its reader and counts 0 customers."""
    db.execute(select(func.pg_advisory_xact_lock(func.hashtextextended("reading-books:rebuild", 0))))  # one at a time
    created = len(db.execute(_CREATE_BOOKS, {"now": now}).all())
    changes = db.execute(_COUNT_CHANGES).one()
    db.execute(_REMOVE)
    db.execute(_UPSERT)
    db.execute(_COUNT_MEMBERS, {"now": now})
    filled = db.scalar(select(func.count()).select_from(ReadingBook).where(ReadingBook.customer_count > 0))
    outcome = RebuildOutcome(books_created=created, customers_added=changes.added, customers_moved=changes.moved,
                             customers_removed=changes.removed, books_with_customers=int(filled or 0))
    audit_service.record(db=db, actor=actor, action="reading_books.rebuild", entity_type=ENTITY, entity_id="all",
                         before=None, after=asdict(outcome))
    outbox.emit(db=db, event_type="reading_book.rebuilt", entity_type=ENTITY, entity_id="all", payload=asdict(outcome))
    return outcome


def get_book(*, db: Session, book_id: int, for_update: bool = False) -> ReadingBook:
    stmt = select(ReadingBook).where(ReadingBook.id == book_id)
    book = db.scalar(stmt.with_for_update() if for_update else stmt)
    if book is None:
        raise NotFound(f"No reading book with id {book_id}.")
    return book


def _snapshot(book: ReadingBook) -> dict[str, Any]:
    return {"transformer_id": book.transformer_id, "name": book.name, "reader_id": book.reader_id,
            "customer_count": book.customer_count, "version": book.version}


def assign_reader(*, db: Session, actor: Actor, book_id: int, reader_id: int | None, expected_version: int) -> ReadingBook:
    """Hand the book to a reader (an active user who may record readings), or take it back (None)."""
    book = get_book(db=db, book_id=book_id, for_update=True)
    if book.version != expected_version:
        raise StaleVersion(f"Reading book {book.name} was changed meanwhile (now version {book.version}, you sent "
                           f"{expected_version}).", current_version=book.version)
    if reader_id is not None:
        reader = db.get(User, reader_id)
        if reader is None or not reader.is_active or not has_permission(Role(reader.role), READINGS_RECORD):
            raise InvalidInput(f"User {reader_id} cannot read meters (an active user whose role records readings).",
                               errors=[{"field": "reader_id", "message": "not a meter reader"}])
    before = _snapshot(book)
    book.reader_id = reader_id
    book.version += 1
    audit_service.record(db=db, actor=actor, action="reading_book.assign_reader", entity_type=ENTITY,
                         entity_id=book.id, before=before, after=_snapshot(book))
    outbox.emit(db=db, event_type="reading_book.reader_assigned", entity_type=ENTITY, entity_id=book.id,
                payload={"reader_id": reader_id, "transformer_id": book.transformer_id})
    return book


def open_round(*, db: Session, actor: Actor, now: datetime, book_id: int, period: str) -> tuple[ReadingRound, bool]:
    """The month's meter_reading task for the book's reader, due within the reading window; opening the
    same round again returns the first one (created False)."""
    try:
        parse_period(period)
    except ValueError as exc:
        raise InvalidInput(str(exc), errors=[{"field": "period", "message": "must be YYYY-MM"}]) from exc
    book = get_book(db=db, book_id=book_id, for_update=True)  # one round per book and period, also when raced
    existing = db.scalar(select(ReadingRound).where(ReadingRound.book_id == book.id, ReadingRound.period == period))
    if existing is not None:
        return existing, False
    start, end = reading_rules().window.for_period(period)
    task = task_service.create_task(db=db, actor=actor, now=now, spec=TaskSpec(
        task_type=TaskType.meter_reading, title=f"Meter reading {book.name} {period}", due_from=start, due_until=end,
        asset_type="transformer", asset_id=book.transformer_id, assignee_id=book.reader_id,
        origin={"kind": "reading_book", "id": book.id, "period": period}))
    reading_round = ReadingRound(book_id=book.id, period=period, task_id=task.id, window_start=start, window_end=end,
                                 created_by_id=actor.user_id, created_at=now)
    db.add(reading_round)
    db.flush()
    audit_service.record(db=db, actor=actor, action="reading_book.open_round", entity_type=ENTITY, entity_id=book.id,
                         before=None, after={"period": period, "task_id": task.id, "window_start": start.isoformat(),
                                             "window_end": end.isoformat()})
    return reading_round, True


def list_books(*, db: Session, actor: Actor, after_id: int | None, limit: int) -> list[ReadingBook]:
    """Books in id order; an inspector sees the books they read."""
    stmt = select(ReadingBook).order_by(ReadingBook.id).limit(limit)
    if after_id is not None:
        stmt = stmt.where(ReadingBook.id > after_id)
    if actor.role is Role.inspector:
        stmt = stmt.where(ReadingBook.reader_id == actor.user_id)
    return list(db.scalars(stmt))


def book_customers(*, db: Session, actor: Actor, book_id: int) -> tuple[ReadingBook, list[dict[str, Any]]]:
    """A book and its customers in reading order (account and meter numbers: what the reader checks on site)."""
    book = get_book(db=db, book_id=book_id)
    if actor.role is Role.inspector and book.reader_id != actor.user_id:
        raise NotFound(f"No reading book with id {book_id} among yours.")
    rows = db.execute(select(ReadingBookCustomer.customer_id, Customer.account_number, Customer.meter_number,
                             ReadingBookCustomer.position)
                      .join(Customer, Customer.id == ReadingBookCustomer.customer_id)
                      .where(ReadingBookCustomer.book_id == book.id).order_by(ReadingBookCustomer.position))
    return book, [dict(row._mapping) for row in rows]
