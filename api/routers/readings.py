"""Meter reading at /reading-books and /readings: build the books from the customers, hand a book to
a reader, open a month's round, record readings (idempotent by the device's uuid) and list them.
Thin: each operation is one call into `inspections.readings`; this module only sets status codes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status

from api.dependencies import DbSession, ExpectedVersion, Now, Page, next_cursor, require
from api.http import etag
from core.bounds import DbId
from core.context import Actor
from inspections.readings import books, rules, service
from inspections.readings.permissions import READING_BOOKS_MANAGE, READINGS_READ, READINGS_RECORD
from inspections.readings.schemas import (
    BookDetailOut,
    BookOut,
    BookPage,
    Period,
    ReaderIn,
    ReadingIn,
    ReadingOut,
    ReadingPage,
    RebuildOut,
    RoundIn,
    RoundOut,
)
from inspections.readings.service import ReadingFilter

Reader = Annotated[Actor, Depends(require(READINGS_READ))]
Recorder = Annotated[Actor, Depends(require(READINGS_RECORD))]
Manager = Annotated[Actor, Depends(require(READING_BOOKS_MANAGE))]

_books = APIRouter(tags=["meter reading"])
_readings = APIRouter(tags=["meter reading"])


@_books.post("/rebuild", response_model=RebuildOut, summary="Build or refresh every book from the customers")
def rebuild(db: DbSession, actor: Manager, now: Now) -> RebuildOut:
    return RebuildOut.model_validate(books.rebuild_books(db=db, actor=actor, now=now), from_attributes=True)


@_books.get("", response_model=BookPage, summary="Reading books (an inspector: their own); follow `next_cursor`")
def list_books(db: DbSession, actor: Reader, page: Page) -> BookPage:
    found = books.list_books(db=db, actor=actor, after_id=page.after_id, limit=page.limit)
    return BookPage(items=[BookOut.model_validate(book) for book in found],
                    next_cursor=next_cursor(found[-1].id if found else None, returned=len(found), limit=page.limit))


@_books.get("/{book_id:int}", response_model=BookDetailOut, summary="A book with its customers in reading order")
def get_book(book_id: DbId, db: DbSession, actor: Reader, response: Response) -> BookDetailOut:
    book, customers = books.book_customers(db=db, actor=actor, book_id=book_id)
    response.headers["ETag"] = etag(book.version)
    return BookDetailOut.model_validate({**BookOut.model_validate(book).model_dump(), "customers": customers})


@_books.put("/{book_id:int}/reader", response_model=BookOut, summary="Hand the book to a reader (If-Match required)")
def assign_reader(book_id: DbId, body: ReaderIn, db: DbSession, actor: Manager, expected_version: ExpectedVersion,
                  response: Response) -> BookOut:
    book = books.assign_reader(db=db, actor=actor, book_id=book_id, reader_id=body.reader_id,
                               expected_version=expected_version)
    response.headers["ETag"] = etag(book.version)
    return BookOut.model_validate(book)


@_books.post("/{book_id:int}/rounds", response_model=RoundOut, status_code=status.HTTP_201_CREATED,
             summary="Open a month's round: the meter_reading task for the reader, due in the reading window")
def open_round(book_id: DbId, body: RoundIn, db: DbSession, actor: Manager, now: Now, response: Response) -> RoundOut:
    """Opening the same period again answers 200 with the first round."""
    reading_round, created = books.open_round(db=db, actor=actor, now=now, book_id=book_id, period=body.period)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return RoundOut.model_validate(reading_round)


@_readings.post("", response_model=ReadingOut, status_code=status.HTTP_201_CREATED,
                summary="Record a reading; the same uuid again answers 200 with the first, other content 409")
def submit(body: ReadingIn, db: DbSession, actor: Recorder, now: Now, response: Response) -> ReadingOut:
    reading, created = service.submit_reading(db=db, actor=actor, now=now, spec=body.spec(), reading_uuid=body.uuid,
                                              device_time=body.device_time)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return ReadingOut.model_validate(reading)


@_readings.get("/codes", summary="Reason and anomaly codes, the reading window and thresholds, with sources")
def codes(_actor: Reader) -> dict[str, Any]:
    return rules.published_codes()


@_readings.get("", response_model=ReadingPage, summary="Readings, corrected ones included; follow `next_cursor`")
def list_readings(db: DbSession, actor: Reader, page: Page, book: Annotated[DbId | None, Query()] = None,
                  period: Annotated[Period | None, Query()] = None,
                  customer_id: Annotated[DbId | None, Query()] = None) -> ReadingPage:
    found = service.list_readings(db=db, actor=actor, query=ReadingFilter(
        book_id=book, period=period, customer_id=customer_id, after_id=page.after_id, limit=page.limit))
    return ReadingPage(items=[ReadingOut.model_validate(r) for r in found],
                       next_cursor=next_cursor(found[-1].id if found else None, returned=len(found), limit=page.limit))


router = APIRouter()
router.include_router(_books, prefix="/reading-books")
router.include_router(_readings, prefix="/readings")
