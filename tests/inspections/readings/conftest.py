"""A transformer area to read: transformers and customers created through the API as a dispatcher
enters them, books rebuilt and handed to the `test-inspector` reader, and readings recorded at
moments the test chooses (`app.state.clock`, read by `api.dependencies.Now`).

The default moment is 21 November 2026, 10:00 in Beijing: inside November's reading window
(20th-23rd, `inspections/readings/data/readings.json`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from core.permissions import Role
from tests.factories import created

Auth = Callable[[Role], dict[str, str]]
BOOKS = "/api/v1/reading-books"
READINGS = "/api/v1/readings"
IN_NOVEMBER_WINDOW = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)


@dataclass
class Meters:
    """Drives the meter-reading API the way the dispatcher's console and the reader's device do."""

    client: TestClient
    app: FastAPI
    auth: Auth
    now: datetime = IN_NOVEMBER_WINDOW
    books: dict[int, dict[str, Any]] = field(default_factory=dict)  # transformer id -> book

    def at(self, now: datetime) -> None:
        self.now = now
        self.app.state.clock = lambda: now

    def transformer(self, name: str = "Xinzhuang No. 3") -> int:
        return int(created(self.client, self.auth(Role.dispatcher), "transformers", name=name)["id"])

    def customer(self, transformer_id: int | None, *, category: str = "residential", key_account: bool = False,
                 account_number: str | None = None) -> int:
        extra = {"account_number": account_number} if account_number else {}
        return int(created(self.client, self.auth(Role.dispatcher), "customers", transformer_id=transformer_id,
                           category=category, key_account=key_account, contact_phone=None, **extra)["id"])

    def rebuild(self, role: Role = Role.dispatcher) -> httpx.Response:
        return self.client.post(f"{BOOKS}/rebuild", headers=self.auth(role))

    def rebuilt(self) -> dict[str, Any]:
        response = self.rebuild()
        assert response.status_code == 200, response.text
        self.books = {b["transformer_id"]: b for b in self.client.get(BOOKS, headers=self.auth(Role.dispatcher))
                      .json()["items"]}
        return dict(response.json())

    def book(self, book_id: int, role: Role = Role.dispatcher) -> httpx.Response:
        return self.client.get(f"{BOOKS}/{book_id}", headers=self.auth(role))

    def give(self, book_id: int, reader_id: int | None) -> dict[str, Any]:
        version = self.book(book_id).json()["version"]
        response = self.client.put(f"{BOOKS}/{book_id}/reader", json={"reader_id": reader_id},
                                   headers={**self.auth(Role.dispatcher), "If-Match": f'"{version}"'})
        assert response.status_code == 200, response.text
        return dict(response.json())

    def open_round(self, book_id: int, period: str) -> httpx.Response:
        return self.client.post(f"{BOOKS}/{book_id}/rounds", json={"period": period}, headers=self.auth(Role.dispatcher))

    def read(self, customer_id: int, period: str, value: float | str | None = None, *, role: Role = Role.inspector,
             reading_uuid: str | None = None, **fields: Any) -> httpx.Response:
        self.app.state.clock = lambda: self.now
        body = {"uuid": reading_uuid or str(uuid.uuid4()), "customer_id": customer_id, "period": period,
                "value": value, **fields}
        return self.client.post(READINGS, json=body, headers=self.auth(role))

    def recorded(self, customer_id: int, period: str, value: float | str | None = None, **fields: Any
                 ) -> dict[str, Any]:
        response = self.read(customer_id, period, value, **fields)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def history(self, customer_id: int, *values: tuple[str, float]) -> None:
        """Earlier months' readings, oldest first, recorded with a reason so that no threshold stops them."""
        for period, value in values:
            self.recorded(customer_id, period, value, reason_code="occupancy_change")

    def readings(self, role: Role = Role.dispatcher, **params: Any) -> list[dict[str, Any]]:
        response = self.client.get(READINGS, params=params, headers=self.auth(role))
        assert response.status_code == 200, response.text
        return list(response.json()["items"])


@pytest.fixture
def meters(client: TestClient, app: FastAPI, auth: Auth) -> Iterator[Meters]:
    real = app.state.clock
    helper = Meters(client=client, app=app, auth=auth)
    helper.at(IN_NOVEMBER_WINDOW)
    try:
        yield helper
    finally:
        app.state.clock = real


@dataclass(frozen=True)
class Area:
    """One transformer area read by `test-inspector`: its book and a customer of each kind."""

    transformer_id: int
    book_id: int
    residential: int
    industrial: int
    commercial: int


@pytest.fixture
def area(meters: Meters, role_users: dict[Role, int]) -> Area:
    transformer = meters.transformer()
    customers = {category: meters.customer(transformer, category=category)
                 for category in ("residential", "industrial", "commercial")}
    meters.rebuilt()
    book = meters.books[transformer]
    meters.give(book["id"], role_users[Role.inspector])
    return Area(transformer_id=transformer, book_id=book["id"], **customers)


def tasks_from_reading(engine: Engine, reading_id: int) -> list[dict[str, Any]]:
    """The field tasks whose origin is the reading (as the schema owner sees them)."""
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT id, task_type, state, assignee_id, due_from, due_until, priority, asset_type, asset_id, origin "
            "FROM field_tasks WHERE origin->>'kind' = 'reading' AND (origin->>'id')::bigint = :id ORDER BY id"),
            {"id": reading_id})
        return [dict(row._mapping) for row in rows]


def outbox_events(engine: Engine, event_type: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT entity_id, payload FROM outbox_events WHERE event_type = :type ORDER BY id"),
                            {"type": event_type})
        return [dict(row._mapping) for row in rows]
