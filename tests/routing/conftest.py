"""Fixtures of route planning through the API: the field crew (dispatcher, inspectors) and their
certificates from the field-work tests, places measured in metres from a depot in Hefei, tasks made
through the field-work service, and `Plans`, which asks for plans the way the console does and waits
for the real worker to solve them.

The plan day is 1 December 2026 (the field-work tests' NOW is 09:00 that day); the API's clock is
set to NOW while a test runs. Without a road network, travel is the estimate: great-circle distance
x circuity / the mode's default speed (`routing/data/routing.json`), which `estimated_s` recomputes
here independently, so the times of a plan can be checked by hand.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session, sessionmaker

from routing.models import RoutePlan
from tests.conftest import Person
from tests.inspections.conftest import NOW, crew, field_reference_data, make_task, qualify
from tests.inspections.conftest import problem as problem_of

PLANS = "/api/v1/route-plans"
DAY = date(2026, 12, 1)
LOCAL = "+08:00"
DEPOT = (117.2272, 31.8206)  # Hefei
EARTH_RADIUS_M = 6_371_008.8
CIRCUITY = 1.3     # routing.json estimate.circuity (the default)
CAR_KMH = 30.0     # routing.json modes.car.default_kmh
FINISHED = ("solved", "failed")

__all__ = ["NOW", "crew", "field_reference_data", "make_task", "problem_of", "qualify"]


def place(east_m: float = 0.0, north_m: float = 0.0) -> dict[str, float]:
    """A point `east_m` east and `north_m` north of the depot (small distances: a local tangent plane)."""
    lat = DEPOT[1] + math.degrees(north_m / EARTH_RADIUS_M)
    lon = DEPOT[0] + math.degrees(east_m / (EARTH_RADIUS_M * math.cos(math.radians(DEPOT[1]))))
    return {"lon": lon, "lat": lat}


def wkt(at: dict[str, float]) -> str:
    return f"POINT({at['lon']} {at['lat']})"


def estimated_s(a: dict[str, float], b: dict[str, float], kmh: float = CAR_KMH) -> float:
    """Travel seconds on the estimate path, by the haversine formula (independent of routing.travel)."""
    p1, p2 = math.radians(a["lat"]), math.radians(b["lat"])
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(b["lon"] - a["lon"]) / 2) ** 2
    metres = 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h)) * CIRCUITY
    return metres / (kmh / 3.6)


def local(clock: str) -> datetime:
    return datetime.fromisoformat(f"{DAY.isoformat()}T{clock}:00{LOCAL}")


def crew_member(person: Person, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"user_id": person.id, "shift": {"start": "08:30", "end": "17:30"}, "lunch": None,
                            "start": place()}
    body.update(changes)
    return body


def plan_body(crews: list[dict[str, Any]], **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"date": DAY.isoformat(), "crews": crews, "time_limit_s": 1, "seed": 7}
    body.update(changes)
    return body


def day_task(session_factory: sessionmaker[Session], at: dict[str, float], **changes: Any) -> int:
    """A planned line patrol at `at`, due all of the plan day and the week after."""
    fields: dict[str, Any] = {"location_wkt": wkt(at), "due_from": local("00:00"),
                              "due_until": local("00:00") + timedelta(days=7), "title": "Patrol"}
    fields.update(changes)
    return make_task(session_factory, **fields)


@dataclass
class Plans:
    client: TestClient
    crew: dict[str, Person]
    session_factory: sessionmaker[Session]

    def headers(self, by: str, **extra: str) -> dict[str, str]:
        return {**self.crew[by].headers, **extra}

    def ask(self, body: dict[str, Any], by: str = "dispatcher") -> Response:
        return self.client.post(PLANS, json=body, headers=self.headers(by))

    def refused(self, body: dict[str, Any], status: int = 422) -> dict[str, Any]:
        """The problem of a request refused with `status`, after checking that no plan was written."""
        found = problem_of(self.ask(body), status)
        with self.session_factory() as db:
            assert db.query(RoutePlan).count() == 0
        return found

    def fields(self, body: dict[str, Any]) -> list[str]:
        return [error["field"] for error in self.refused(body)["errors"]]

    def get(self, plan_id: int, by: str = "dispatcher") -> dict[str, Any]:
        response = self.client.get(f"{PLANS}/{plan_id}", headers=self.headers(by))
        assert response.status_code == 200, response.text
        return dict(response.json())

    def wait(self, plan_id: int, timeout_s: float = 90) -> dict[str, Any]:
        """The plan once the worker has finished with it (solved or failed)."""
        deadline = time.monotonic() + timeout_s
        while True:
            plan = self.get(plan_id)
            if plan["state"] in FINISHED:
                return plan
            assert time.monotonic() < deadline, f"plan {plan_id} still {plan['state']} after {timeout_s} s"
            time.sleep(0.2)

    def solved(self, body: dict[str, Any]) -> dict[str, Any]:
        response = self.ask(body)
        assert response.status_code == 202, response.text
        plan = self.wait(response.json()["id"])
        assert plan["state"] == "solved", plan["error"]
        return plan

    def publish(self, plan: dict[str, Any], by: str = "dispatcher", version: int | None = None) -> Response:
        etag = f'"{plan["version"] if version is None else version}"'
        return self.client.post(f"{PLANS}/{plan['id']}/publish", headers=self.headers(by, **{"If-Match": etag}))


@pytest.fixture
def plans(app: FastAPI, client: TestClient, crew: dict[str, Person],
          session_factory: sessionmaker[Session]) -> Iterator[Plans]:
    """The API at NOW (its clock set), with the crew; the real clock again afterwards."""
    real = app.state.clock
    app.state.clock = lambda: NOW
    try:
        yield Plans(client, crew, session_factory)
    finally:
        app.state.clock = real


def route_of(plan: dict[str, Any], person: Person) -> dict[str, Any]:
    return next(route for route in plan["result"]["routes"] if route["user_id"] == person.id)


def task_ids_of(route: dict[str, Any]) -> list[int]:
    return [stop["task_id"] for stop in route["stops"]]


def valid_until_next_year() -> date:
    return (NOW + timedelta(days=365)).astimezone(UTC).date()
