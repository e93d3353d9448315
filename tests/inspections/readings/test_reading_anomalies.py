"""Anomalies found at a meter open follow-up work: a fault visit (lost, burnt, stopped, backwards,
creeping) or a usage inspection (suspected theft, which also reaches the dispatchers as an event),
left planned for a dispatcher to assign; a locked door sends the reader back within the window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from core.permissions import Role
from inspections.readings.rules import reading_rules
from tests.inspections.readings.conftest import Area, Meters, outbox_events, tasks_from_reading

NOVEMBER_WINDOW_END = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)  # midnight after the 23rd, Beijing
FOLLOW_UPS = {"meter_lost": "fault_visit", "meter_burnt": "fault_visit", "meter_stopped": "fault_visit",
              "running_backwards": "fault_visit", "creeping": "fault_visit", "suspected_theft": "usage_inspection"}
UNREADABLE = frozenset({"meter_lost", "meter_burnt"})


@pytest.mark.parametrize(("anomaly", "task_type"), sorted(FOLLOW_UPS.items()))
def test_each_anomaly_opens_its_follow_up_task_for_dispatchers_to_assign(meters: Meters, area: Area,
                                                                         owner_engine: Engine, anomaly: str,
                                                                         task_type: str) -> None:
    value = None if anomaly in UNREADABLE else 10.0
    reading = meters.recorded(area.residential, "2026-11", value, anomaly_code=anomaly)

    [task] = tasks_from_reading(owner_engine, reading["id"])
    assert task["task_type"] == task_type and task["state"] == "planned" and task["assignee_id"] is None
    assert (task["asset_type"], task["asset_id"]) == ("customer", area.residential)
    assert task["origin"]["kind"] == "reading" and task["origin"]["customer_id"] == area.residential
    assert task["due_until"] - task["due_from"] == timedelta(hours=reading_rules().anomaly_codes[anomaly].due_hours)
    assert reading["follow_up_task_id"] == task["id"]
    assert reading["status"] == ("not_read" if anomaly in UNREADABLE else "valid")


def test_suspected_theft_reaches_the_dispatchers_as_an_event_with_its_place(meters: Meters, area: Area,
                                                                            owner_engine: Engine) -> None:
    reading = meters.recorded(area.residential, "2026-11", 10.0, anomaly_code="suspected_theft")

    [event] = outbox_events(owner_engine, "reading.suspected_theft")
    assert event["entity_id"] == str(reading["id"])
    assert event["payload"]["follow_up_task_id"] == reading["follow_up_task_id"]
    assert event["payload"]["location"]["type"] == "Point"
    assert outbox_events(owner_engine, "task.created")  # the usage inspection itself is announced too


def test_an_unreadable_meter_takes_no_value(meters: Meters, area: Area) -> None:
    refused = meters.read(area.residential, "2026-11", 10.0, anomaly_code="locked_door")

    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "value"


def test_a_locked_door_sends_the_reader_back_within_the_window(meters: Meters, area: Area, owner_engine: Engine,
                                                               role_users: dict[Role, int]) -> None:
    locked = meters.recorded(area.residential, "2026-11", None, anomaly_code="locked_door")

    [reread] = tasks_from_reading(owner_engine, locked["id"])
    assert locked["status"] == "not_read" and locked["value"] is None
    assert reread["task_type"] == "meter_reread" and reread["state"] == "assigned"
    assert reread["assignee_id"] == role_users[Role.inspector]
    assert reread["due_from"] == meters.now and reread["due_until"] == NOVEMBER_WINDOW_END
    assert (reread["asset_type"], reread["asset_id"]) == ("customer", area.residential)

    meters.at(meters.now + timedelta(days=1))
    read = meters.recorded(area.residential, "2026-11", 75.0, task_id=reread["id"])
    assert read["status"] == "valid" and read["task_id"] == reread["id"]
    statuses = {r["id"]: r["status"] for r in meters.readings(customer_id=area.residential)}
    assert statuses == {locked["id"]: "not_read", read["id"]: "valid"}


def test_a_locked_door_after_the_window_still_gets_a_re_read_due_days_later(meters: Meters, area: Area,
                                                                             owner_engine: Engine) -> None:
    meters.at(NOVEMBER_WINDOW_END + timedelta(hours=5))

    locked = meters.recorded(area.residential, "2026-11", None, anomaly_code="locked_door")

    [reread] = tasks_from_reading(owner_engine, locked["id"])
    assert reread["due_from"] == meters.now
    assert reread["due_until"] == meters.now + timedelta(days=reading_rules().late_reread_days)


def test_another_inspector_may_re_read_only_the_meter_they_were_sent_to(meters: Meters, area: Area,
                                                                        owner_engine: Engine,
                                                                        role_users: dict[Role, int]) -> None:
    locked = meters.recorded(area.residential, "2026-11", None, anomaly_code="locked_door")
    [reread] = tasks_from_reading(owner_engine, locked["id"])
    meters.give(area.book_id, None)  # the book is taken back; the re-read stays with its assignee

    assert meters.read(area.industrial, "2026-11", 10.0, task_id=reread["id"]).status_code == 422
    assert meters.read(area.residential, "2026-11", 10.0).status_code == 403
    assert meters.read(area.residential, "2026-11", 10.0, task_id=reread["id"]).status_code == 201
