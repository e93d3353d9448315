"""Readings are records: the same uuid sent again is the same reading, a correction supersedes
without overwriting, and every reading is audited and announced."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Engine, text

from core.permissions import Role
from tests.inspections.readings.conftest import Area, Meters, outbox_events


def test_the_same_uuid_with_the_same_content_returns_the_first_reading(meters: Meters, area: Area) -> None:
    reading_uuid = str(uuid.uuid4())
    first = meters.read(area.residential, "2026-11", 120.5, reading_uuid=reading_uuid)

    again = meters.read(area.residential, "2026-11", "120.50", reading_uuid=reading_uuid)

    assert first.status_code == 201 and again.status_code == 200
    assert again.json() == first.json()
    assert len(meters.readings(customer_id=area.residential)) == 1


def test_the_same_uuid_with_other_content_is_refused(meters: Meters, area: Area) -> None:
    reading_uuid = str(uuid.uuid4())
    meters.recorded(area.residential, "2026-11", 120.0, reading_uuid=reading_uuid)

    changed = meters.read(area.residential, "2026-11", 121.0, reading_uuid=reading_uuid)

    assert changed.status_code == 409
    assert [r["value"] for r in meters.readings(customer_id=area.residential)] == [120.0]


def send_at_once(meters: Meters, *bodies: dict[str, Any]) -> list[int]:
    """The status of each reading, all sent at the same moment (a retry racing its original)."""
    start = threading.Barrier(len(bodies))

    def send(body: dict[str, Any]) -> int:
        start.wait(timeout=10)
        return meters.read(**body).status_code

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(send, bodies))


def test_a_retry_racing_its_original_is_stored_once(meters: Meters, area: Area) -> None:
    body = {"customer_id": area.residential, "period": "2026-11", "value": 88.0, "reading_uuid": str(uuid.uuid4())}

    statuses = send_at_once(meters, body, dict(body))

    assert sorted(statuses) == [200, 201]
    assert len(meters.readings(customer_id=area.residential)) == 1


def test_two_readings_of_one_meter_and_month_sent_at_once_store_one(meters: Meters, area: Area) -> None:
    statuses = send_at_once(meters, {"customer_id": area.residential, "period": "2026-11", "value": 88.0},
                            {"customer_id": area.residential, "period": "2026-11", "value": 89.0})

    assert sorted(statuses) == [201, 409]
    assert len(meters.readings(customer_id=area.residential)) == 1


def test_a_second_reading_of_the_same_period_must_be_a_correction(meters: Meters, area: Area) -> None:
    meters.recorded(area.residential, "2026-11", 120.0)

    assert meters.read(area.residential, "2026-11", 121.0).status_code == 409


def test_a_correction_supersedes_the_reading_and_both_stay_visible(meters: Meters, area: Area,
                                                                   owner_engine: Engine) -> None:
    meters.history(area.residential, ("2026-10", 100.0))
    wrong = meters.recorded(area.residential, "2026-11", 1200.0, reason_code="new_equipment")

    corrected = meters.recorded(area.residential, "2026-11", 120.0, corrects_uuid=wrong["uuid"])

    listed = {r["id"]: r for r in meters.readings(customer_id=area.residential, period="2026-11")}
    assert listed[wrong["id"]]["status"] == "superseded" and listed[wrong["id"]]["value"] == 1200.0
    assert listed[wrong["id"]]["superseded_by_id"] == corrected["id"]
    assert corrected["supersedes_id"] == wrong["id"] and corrected["status"] == "valid"
    assert corrected["previous_value"] == 100.0  # compared with October, not with the reading it corrects
    assert [e["entity_id"] for e in outbox_events(owner_engine, "reading.corrected")] == [str(corrected["id"])]
    again = meters.read(area.residential, "2026-11", 121.0, corrects_uuid=wrong["uuid"])
    assert again.status_code == 409  # correct the newest one


def test_every_reading_is_audited_with_who_and_what(meters: Meters, area: Area, owner_engine: Engine,
                                                    role_users: dict[Role, int]) -> None:
    reading = meters.recorded(area.residential, "2026-11", 42.0, device_time="2026-11-21T09:58:00+08:00")

    with owner_engine.connect() as conn:
        audit = conn.execute(text("SELECT actor_name, after FROM audit_log WHERE action = 'meter_reading.record' "
                                  "AND entity_id = :id"), {"id": str(reading["id"])}).one()
    assert audit.actor_name == "test-inspector" and audit.after["value"] == "42.00"
    assert reading["reader_id"] == role_users[Role.inspector]
    assert reading["device_time"].startswith("2026-11-21T01:58:00")
    assert [e["entity_id"] for e in outbox_events(owner_engine, "reading.recorded")] == [str(reading["id"])]


def test_the_list_filters_by_book_and_period(meters: Meters, area: Area) -> None:
    meters.recorded(area.residential, "2026-10", 100.0)
    november = meters.recorded(area.industrial, "2026-11", 100.0)

    assert [r["id"] for r in meters.readings(book=area.book_id, period="2026-11")] == [november["id"]]
    assert meters.readings(book=area.book_id + 1000, period="2026-11") == []
    assert len(meters.readings(Role.inspector, book=area.book_id)) == 2


def test_devices_read_the_codes_with_their_labels_and_sources(meters: Meters) -> None:
    response = meters.client.get("/api/v1/readings/codes", headers=meters.auth(Role.inspector))

    assert response.status_code == 200
    body = response.json()
    assert body["anomaly_codes"]["codes"]["locked_door"]["zh"] == "门闭"
    assert "seasonal_use" in body["reason_codes"]["codes"]
    assert body["window"]["first_day"] == 20 and body["window"]["source"]
