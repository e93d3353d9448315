"""A reading window as a rounds problem, from the database: the customers of the reading books due,
the readers, the window's days (issue 12 §1, meter-reading rounds; `routing.rounds` plans them).

Where a reader starts and ends each day: the depot the caller gives (the office readers leave from),
else the centroid of the selected books' customers that the reader reads now (`ReadingBook.reader_id`),
so that the split keeps each reader near the areas they know; a reader with none of the books
starts at the centroid of all the stops. Their shift, lunch, travel mode and time at a meter are
the defaults of `routing/data/routing.json`; the days are those of the reading window of
`inspections/readings/data/readings.json` in the utility's time zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from geoalchemy2 import functions as geo
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import InvalidInput
from core.permissions import Role
from core.users.models import User
from gis.customers.models import Customer
from inspections.readings.models import ReadingBook, ReadingBookCustomer
from inspections.readings.rules import parse_period, reading_rules
from routing.problem import Break, Crew, Job, Point, Window
from routing.rules import routing_rules


@dataclass(frozen=True)
class ReadingInput:
    """What `routing.rounds.plan_rounds` needs: the window's days (local midnights), one stop per
    customer (`customer:<id>`, in book and reading order), one reader per user (`user:<id>`)."""

    period: str
    origin_days: tuple[datetime, ...]
    stops: tuple[Job, ...]
    readers: tuple[Crew, ...]
    book_ids: tuple[int, ...]


def reading_stops(db: Session, *, period: str, book_ids: Sequence[int] | None, reader_ids: Sequence[int],
                  depot: Point | None = None) -> ReadingInput:
    """The window of `period` ("YYYY-MM") for `book_ids` (None: every book with customers), read by
    the inspectors `reader_ids`. Unknown books or readers, or a period not YYYY-MM: InvalidInput
    naming them."""
    days = window_days(period)
    books = _books(db, book_ids)
    readers = _readers(db, reader_ids)
    rows = db.execute(
        select(ReadingBookCustomer.customer_id, ReadingBook.reader_id, geo.ST_X(Customer.geom), geo.ST_Y(Customer.geom))
        .join(ReadingBook, ReadingBook.id == ReadingBookCustomer.book_id)
        .join(Customer, Customer.id == ReadingBookCustomer.customer_id)
        .where(ReadingBookCustomer.book_id.in_(books), Customer.deleted_at.is_(None))
        .order_by(ReadingBookCustomer.book_id, ReadingBookCustomer.position)).all()
    rules = routing_rules()
    stops = tuple(Job(key=f"customer:{customer_id}", point=Point(lon=float(lon), lat=float(lat)),
                      service_s=rules.reading_service_s) for customer_id, _, lon, lat in rows)
    everyone = _centroid([stop.point for stop in stops])
    crews = []
    for reader_id in readers:
        own = [Point(lon=float(lon), lat=float(lat)) for _, book_reader, lon, lat in rows if book_reader == reader_id]
        home = depot or _centroid(own) or everyone or Point(lon=0.0, lat=0.0)
        crews.append(_reader_day(f"user:{reader_id}", home))
    return ReadingInput(period=period, origin_days=days, stops=stops, readers=tuple(crews), book_ids=tuple(books))


def window_days(period: str) -> tuple[datetime, ...]:
    """Local midnight of each day of the period's reading window (aware, in the utility's zone)."""
    try:
        parse_period(period)
    except ValueError:
        raise InvalidInput(f"period {period!r} is not a month written YYYY-MM.",
                           errors=[{"field": "period", "message": "expected YYYY-MM, e.g. 2026-11"}]) from None
    window = reading_rules().window
    zone = ZoneInfo(window.timezone)
    start, end = (moment.astimezone(zone).date() for moment in window.for_period(period))
    return tuple(datetime.combine(start + timedelta(days=n), time(), zone) for n in range((end - start).days))


def _books(db: Session, book_ids: Sequence[int] | None) -> list[int]:
    if book_ids is None:
        return list(db.scalars(select(ReadingBook.id).where(ReadingBook.customer_count > 0).order_by(ReadingBook.id)))
    found = set(db.scalars(select(ReadingBook.id).where(ReadingBook.id.in_(book_ids))))
    unknown = [(n, book_id) for n, book_id in enumerate(book_ids) if book_id not in found]
    if unknown:
        raise InvalidInput(f"No reading book with id {', '.join(str(b) for _, b in unknown)}.",
                           errors=[{"field": f"book_ids[{n}]", "message": f"no reading book {b}"} for n, b in unknown])
    return sorted(set(book_ids))


def _readers(db: Session, reader_ids: Sequence[int]) -> list[int]:
    if not reader_ids:
        raise InvalidInput("Rounds need at least one reader.",
                           errors=[{"field": "reader_ids", "message": "at least one inspector"}])
    readers = set(db.scalars(select(User.id).where(User.id.in_(reader_ids), User.role == Role.inspector,
                                                   User.is_active.is_(True))))
    unknown = [(n, user_id) for n, user_id in enumerate(reader_ids) if user_id not in readers]
    if unknown:
        raise InvalidInput(f"No active inspector with id {', '.join(str(u) for _, u in unknown)}.",
                           errors=[{"field": f"reader_ids[{n}]", "message": f"user {u} is not an active inspector"}
                                   for n, u in unknown])
    return list(dict.fromkeys(reader_ids))


def _reader_day(key: str, home: Point) -> Crew:
    rules = routing_rules()
    lunch = Break(window=Window(_seconds(rules.lunch_earliest_start), _seconds(rules.lunch_latest_start)),
                  duration_s=60 * rules.lunch_minutes)
    return Crew(key=key, start=home, end=home, shift_start=_seconds(rules.shift_start),
                shift_end=_seconds(rules.shift_end), mode=rules.reading_mode, lunch=lunch)


def _seconds(moment: time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def _centroid(points: Sequence[Point]) -> Point | None:
    if not points:
        return None
    return Point(lon=sum(p.lon for p in points) / len(points), lat=sum(p.lat for p in points) / len(points))
