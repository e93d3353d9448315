"""A reading window's rounds through the API: asked for like a field plan, solved by the worker into
one route per reader and day of the window (the 20th to the 23rd), every customer of the books read
once; published, each round is on its reader's device on its day. Unknown readers are named."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from core.permissions import Role
from tests.factories import created, point
from tests.inspections.readings.conftest import Meters
from tests.routing.conftest import PLANS, Plans

Auth = Callable[[Role], dict[str, str]]
READINGS = f"{PLANS}/meter-reading"
WINDOW = ["2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23"]


@pytest.fixture
def book(client: TestClient, app: object, auth: Auth, role_users: dict[Role, int]) -> dict[str, Any]:
    """One reading book of six customers a few hundred metres apart in Hefei, read by test-inspector."""
    meters = Meters(client=client, app=app, auth=auth)  # type: ignore[arg-type]
    transformer = meters.transformer("North")
    customers = [int(created(client, auth(Role.dispatcher), "customers", transformer_id=transformer,
                             contact_phone=None, geometry=point(117.20 + 0.003 * n, 31.80))["id"]) for n in range(6)]
    meters.rebuilt()
    book_id = meters.books[transformer]["id"]
    meters.give(book_id, role_users[Role.inspector])
    return {"id": book_id, "customers": customers}


def ask(plans: Plans, **body: Any) -> Any:
    return plans.client.post(READINGS, json={"period": "2026-11", "time_limit_s": 1, "seed": 3, **body},
                             headers=plans.headers("dispatcher"))


@pytest.mark.usefixtures("celery_worker")
def test_the_window_is_planned_as_rounds_and_each_reader_sees_their_round_on_its_day(
        plans: Plans, book: dict[str, Any]) -> None:
    inspector = plans.crew["inspector"]
    asked = ask(plans, reader_ids=[inspector.id], book_ids=[book["id"]])
    assert asked.status_code == 202, asked.text
    assert (asked.json()["kind"], asked.json()["date"]) == ("meter_reading", WINDOW[0])
    plan = plans.wait(asked.json()["id"])
    assert plan["state"] == "solved", plan["error"]
    result = plan["result"]
    assert (result["days"], result["estimate"], result["unassigned"]) == (WINDOW, True, [])
    visited = Counter(stop["customer_id"] for route in result["routes"] for stop in route["stops"])
    assert visited == Counter(book["customers"])  # every customer of the book, once
    assert {route["user_id"] for route in result["routes"]} == {inspector.id}
    assert {route["date"] for route in result["routes"]} <= set(WINDOW)

    assert plans.publish(plan).status_code == 200
    for route in result["routes"]:
        mine = plans.client.get("/api/v1/my/route", params={"date": route["date"]},
                                headers=plans.headers("inspector")).json()
        assert [s["customer_id"] for s in mine["stops"]] == [s["customer_id"] for s in route["stops"]]


def test_an_unknown_reader_is_named_and_nothing_is_written(plans: Plans, book: dict[str, Any]) -> None:
    response = ask(plans, reader_ids=[plans.crew["inspector"].id, 987654], book_ids=[book["id"]])
    assert response.status_code == 422, response.text
    assert any(e["field"].startswith("reader_ids") for e in response.json()["errors"])
    assert plans.client.get(PLANS, headers=plans.headers("dispatcher")).json()["items"] == []


def test_a_period_that_is_not_a_month_is_refused(plans: Plans) -> None:
    response = ask(plans, period="2026-13-01", reader_ids=[plans.crew["inspector"].id])
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "period"
