"""A month's round of a book is one meter_reading task for its reader, due within the reading window;
readings of the book's customers in that month are done under it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, text

from core.permissions import Role
from tests.inspections.readings.conftest import Area, Meters


def task(engine: Engine, task_id: int) -> dict[str, object]:
    with engine.connect() as conn:
        row = conn.execute(text("SELECT task_type, state, assignee_id, due_from, due_until, asset_type, asset_id "
                                "FROM field_tasks WHERE id = :id"), {"id": task_id}).one()
    return dict(row._mapping)


def test_opening_a_round_gives_the_reader_a_task_due_in_the_window(meters: Meters, area: Area, owner_engine: Engine,
                                                                   role_users: dict[Role, int]) -> None:
    response = meters.open_round(area.book_id, "2026-12")

    assert response.status_code == 201, response.text
    body = response.json()
    assert datetime.fromisoformat(body["window_start"]) == datetime(2026, 12, 19, 16, tzinfo=UTC)  # 20th, Beijing
    opened = task(owner_engine, body["task_id"])
    assert opened == {"task_type": "meter_reading", "state": "assigned", "assignee_id": role_users[Role.inspector],
                      "due_from": datetime(2026, 12, 19, 16, tzinfo=UTC),
                      "due_until": datetime(2026, 12, 23, 16, tzinfo=UTC),
                      "asset_type": "transformer", "asset_id": area.transformer_id}


def test_opening_the_same_round_again_returns_the_first(meters: Meters, area: Area) -> None:
    first = meters.open_round(area.book_id, "2026-11")

    again = meters.open_round(area.book_id, "2026-11")

    assert again.status_code == 200 and again.json() == first.json()


def test_readings_of_the_month_are_done_under_the_round(meters: Meters, area: Area) -> None:
    reading_round = meters.open_round(area.book_id, "2026-11").json()

    reading = meters.recorded(area.residential, "2026-11", 10.0)

    assert reading["task_id"] == reading_round["task_id"]


def test_a_round_needs_a_real_month_and_a_dispatcher(meters: Meters, area: Area) -> None:
    assert meters.open_round(area.book_id, "2026-13").status_code == 422
    assert meters.open_round(area.book_id, "0000-01").status_code == 422  # no calendar has a year 0
    refused = meters.client.post(f"/api/v1/reading-books/{area.book_id}/rounds", json={"period": "2026-11"},
                                 headers=meters.auth(Role.inspector))
    assert refused.status_code == 403
    assert meters.open_round(area.book_id + 1000, "2026-11").status_code == 404
