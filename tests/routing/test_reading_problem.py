"""A reading window from the database: the customers of the books due, the readers and their day.

Transformers, customers and books are made through the API as a dispatcher makes them (the
meter-reading tests' `Meters` helper); the problem is then read in a session of the application."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from core.errors import InvalidInput
from core.permissions import Role
from routing.problem import Point
from routing.reading_problem import ReadingInput, reading_stops
from tests.factories import created, point
from tests.inspections.readings.conftest import Meters

Auth = Callable[[Role], dict[str, str]]
HOUR = 3600


@pytest.fixture
def meters(client: TestClient, app: object, auth: Auth) -> Meters:
    return Meters(client=client, app=app, auth=auth)  # type: ignore[arg-type]


def located_customer(meters: Meters, transformer_id: int, lon: float, lat: float) -> int:
    return int(created(meters.client, meters.auth(Role.dispatcher), "customers", transformer_id=transformer_id,
                       contact_phone=None, geometry=point(lon, lat))["id"])


@pytest.fixture
def two_books(meters: Meters, role_users: dict[Role, int]) -> dict[str, object]:
    """Book A (three customers around 117.20 E, read by test-inspector) and book B (two around 117.30 E,
    no reader)."""
    north, south = meters.transformer("North"), meters.transformer("South")
    a = [located_customer(meters, north, lon, 31.80) for lon in (117.19, 117.20, 117.21)]
    b = [located_customer(meters, south, lon, 31.90) for lon in (117.29, 117.31)]
    meters.rebuilt()
    book_a, book_b = meters.books[north]["id"], meters.books[south]["id"]
    meters.give(book_a, role_users[Role.inspector])
    return {"a": a, "b": b, "book_a": book_a, "book_b": book_b}


def read(session_factory: sessionmaker[Session], **kwargs: object) -> ReadingInput:
    with session_factory() as db:
        return reading_stops(db, **kwargs)  # type: ignore[arg-type]


def test_every_customer_of_the_books_is_a_stop_and_the_reader_starts_at_their_books(
        session_factory: sessionmaker[Session], two_books: dict[str, object], role_users: dict[Role, int]) -> None:
    inspector = role_users[Role.inspector]

    problem = read(session_factory, period="2026-11", book_ids=None, reader_ids=[inspector])

    assert [s.key for s in problem.stops] == [f"customer:{c}" for c in [*two_books["a"], *two_books["b"]]]  # type: ignore[misc]
    assert {s.service_s for s in problem.stops} == {120}  # routing.json meter_reading.service_seconds
    assert problem.book_ids == (two_books["book_a"], two_books["book_b"])
    (crew,) = problem.readers
    assert crew.key == f"user:{inspector}" and crew.mode == "foot"
    assert crew.start == crew.end
    assert crew.start.lon == pytest.approx(117.20) and crew.start.lat == pytest.approx(31.80)  # book A's centroid
    assert (crew.shift_start, crew.shift_end) == (8 * HOUR + 1800, 17 * HOUR + 1800)
    assert crew.lunch is not None and crew.lunch.duration_s == HOUR
    assert (crew.lunch.window.start, crew.lunch.window.end) == (11 * HOUR + 1800, 13 * HOUR)


def test_the_window_is_the_20th_to_the_23rd_in_beijing(session_factory: sessionmaker[Session],
                                                        two_books: dict[str, object],
                                                        role_users: dict[Role, int]) -> None:
    problem = read(session_factory, period="2026-11", book_ids=[two_books["book_b"]],
                   reader_ids=[role_users[Role.inspector]])

    assert [d.isoformat() for d in problem.origin_days] == [
        f"2026-11-{day}T00:00:00+08:00" for day in (20, 21, 22, 23)]
    assert all(isinstance(d, datetime) for d in problem.origin_days)
    assert [s.key for s in problem.stops] == [f"customer:{c}" for c in two_books["b"]]  # type: ignore[attr-defined]


def test_a_depot_given_is_every_readers_start_and_end(session_factory: sessionmaker[Session],
                                                      two_books: dict[str, object],
                                                      role_users: dict[Role, int]) -> None:
    office = Point(lon=117.25, lat=31.85)
    problem = read(session_factory, period="2026-11", book_ids=None, reader_ids=[role_users[Role.inspector]],
                   depot=office)

    assert {(c.start, c.end) for c in problem.readers} == {(office, office)}


def test_unknown_books_and_readers_and_a_bad_period_are_named(session_factory: sessionmaker[Session],
                                                              two_books: dict[str, object],
                                                              role_users: dict[Role, int]) -> None:
    inspector, dispatcher = role_users[Role.inspector], role_users[Role.dispatcher]

    with pytest.raises(InvalidInput) as books:
        read(session_factory, period="2026-11", book_ids=[two_books["book_a"], 999_999], reader_ids=[inspector])
    assert books.value.errors == [{"field": "book_ids[1]", "message": "no reading book 999999"}]

    with pytest.raises(InvalidInput) as readers:
        read(session_factory, period="2026-11", book_ids=None, reader_ids=[inspector, dispatcher, 999_999])
    assert [e["field"] for e in readers.value.errors] == ["reader_ids[1]", "reader_ids[2]"]

    with pytest.raises(InvalidInput) as period:
        read(session_factory, period="2026-13", book_ids=None, reader_ids=[inspector])
    assert period.value.errors[0]["field"] == "period"
