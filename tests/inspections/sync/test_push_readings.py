"""Meter readings pushed from a reader's device are recorded by the reading service, validated
exactly as through the API: a jump beyond the threshold without a reason is rejected for that item
with the rule it broke, a meter of another reader's book is refused, a replay is one reading."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from core.permissions import Role
from tests.inspections.readings.conftest import IN_NOVEMBER_WINDOW, Area, Meters
from tests.inspections.sync.conftest import Device, DeviceLogin, item


def reading(customer_id: int, value: float, **fields: Any) -> dict[str, Any]:
    return item("reading", {"customer_id": customer_id, "period": "2026-11", "value": value, **fields},
                device_time=IN_NOVEMBER_WINDOW)


def readings_of(engine: Engine, customer_id: int) -> list[tuple[str, float]]:
    with engine.connect() as conn:
        return [(r.period, float(r.value)) for r in conn.execute(text(
            "SELECT period, value FROM meter_readings WHERE customer_id = :c ORDER BY period"), {"c": customer_id})]


def test_pushed_readings_are_validated_like_readings_sent_online_and_a_replay_is_one_reading(
        meters: Meters, area: Area, client: TestClient, device_token: DeviceLogin, owner_engine: Engine) -> None:
    meters.history(area.residential, ("2026-09", 1000.0), ("2026-10", 1100.0))
    device = Device(client, device_token(Role.inspector, "reader-phone"), clock=IN_NOVEMBER_WINDOW)
    jump, normal = reading(area.residential, 1400.0), reading(area.industrial, 52.0)

    first = device.push([jump, normal])
    again = device.push([jump, normal])

    assert first[0]["status"] == "rejected"
    assert first[0]["problem"]["status"] == 422
    assert first[0]["problem"]["errors"][0]["field"] == "reason_code"
    assert (first[1]["status"], first[1]["entity_type"]) == ("applied", "meter_reading")
    assert [r["status"] for r in again] == ["duplicate", "duplicate"]
    assert readings_of(owner_engine, area.residential) == [("2026-09", 1000.0), ("2026-10", 1100.0)]
    assert readings_of(owner_engine, area.industrial) == [("2026-11", 52.0)]
    with owner_engine.connect() as conn:
        stored_uuid = conn.execute(text("SELECT uuid::text FROM meter_readings WHERE customer_id = :c"),
                                   {"c": area.industrial}).scalar_one()
    assert stored_uuid == normal["uuid"]


def test_a_meter_of_another_readers_book_is_refused_for_that_item(
        meters: Meters, area: Area, client: TestClient, device_token: DeviceLogin, owner_engine: Engine,
        role_users: dict[Role, int]) -> None:
    meters.give(area.book_id, role_users[Role.admin])
    device = Device(client, device_token(Role.inspector, "reader-phone"), clock=IN_NOVEMBER_WINDOW)

    result = device.push([reading(area.commercial, 10.0)])[0]

    assert result["status"] == "rejected" and result["problem"]["status"] == 403
    assert readings_of(owner_engine, area.commercial) == []
