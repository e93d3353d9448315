"""Reading books, their customers, reading rounds and meter readings.

A reading book is the reading plan of one transformer area (台区): the customers that transformer
feeds, in reading order, and the inspector who reads them. Its members are a table, not a query on
`customers.transformer_id`: the book changes only when someone rebuilds it (audited, with what was
added, moved and removed), so a round in progress keeps its customers while the network data
changes under it, and the reading order is kept with the book.

A reading is never overwritten: a correction is a new reading that supersedes the old one, and both
stay visible. The device's uuid makes a reading pushed twice one reading.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from core.models import Base

# kWh registers: up to 10 digits before the point, 2 after.
METER_VALUE = Numeric(12, 2)


class ReadingBook(Base):
    """The reading plan of one transformer area."""

    __tablename__ = "reading_books"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    transformer_id: Mapped[int] = mapped_column(ForeignKey("transformers.id"), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    reader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    customer_count: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    rebuilt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 onupdate=func.now())


class ReadingBookCustomer(Base):
    """A customer's place in a book: each customer is in one book, at one position in reading order."""

    __tablename__ = "reading_book_customers"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("reading_books.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)


class ReadingRound(Base):
    """One month's reading of a book: the meter_reading task that carries it (one per book and period)."""

    __tablename__ = "reading_rounds"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("reading_books.id"))
    period: Mapped[str] = mapped_column(String(7))
    task_id: Mapped[int] = mapped_column(ForeignKey("field_tasks.id"), unique=True)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    window_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("book_id", "period", name="uq_reading_rounds_book_period"),)


class MeterReading(Base):
    """One visit to one meter for one billing period: the value read (none when the meter could not
    be read), what it was compared with, and the codes the reader recorded.

    status: `valid` (the period's reading), `not_read` (locked door, lost or burnt meter: no value),
    `superseded` (replaced by a correction, `superseded_by_id`)."""

    __tablename__ = "meter_readings"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    uuid: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), unique=True)
    # The sha256 of what the device sent: the same uuid with other content is refused.
    content_sha256: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("reading_books.id"))  # see ix_meter_readings_book_period
    task_id: Mapped[int | None] = mapped_column(ForeignKey("field_tasks.id"), index=True)
    period: Mapped[str] = mapped_column(String(7))
    value: Mapped[Decimal | None] = mapped_column(METER_VALUE)
    read_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    device_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason_code: Mapped[str | None] = mapped_column(String(40))
    anomaly_code: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(Text, default="")
    estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    previous_reading_id: Mapped[int | None] = mapped_column(ForeignKey("meter_readings.id"))
    previous_value: Mapped[Decimal | None] = mapped_column(METER_VALUE)
    consumption: Mapped[Decimal | None] = mapped_column(METER_VALUE)
    status: Mapped[str] = mapped_column(String(20))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("meter_readings.id"), unique=True)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("meter_readings.id"))
    # The fault visit, theft inspection or re-read task this reading opened.
    follow_up_task_id: Mapped[int | None] = mapped_column(ForeignKey("field_tasks.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint("status IN ('valid', 'not_read', 'superseded')", name="status"),
        CheckConstraint("status <> 'valid' OR value IS NOT NULL", name="value_when_valid"),
        # One period's reading per customer; corrections supersede it, never sit beside it.
        Index("uq_meter_readings_valid_per_period", "customer_id", "period", unique=True,
              postgresql_where=text("status = 'valid'")),
        Index("ix_meter_readings_book_period", "book_id", "period"),
    )
