"""Administrators maintain the holiday calendar through the API: when the State Council publishes
next year's schedule it is added without a release, and deadlines of open cases follow it."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from cases.calendar import default_calendar_path
from core.permissions import Role
from tests.cases.conftest import FAR, Clock, assert_problem, connection_body

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALENDAR = "/api/v1/calendars/CN"
# A 2027 schedule as an administrator would enter it (New Year's Day off, a make-up Sunday).
YEAR_2027 = {"source": "国务院办公厅关于2027年部分节假日安排的通知 (test entry)",
             "holidays": [{"date": "2027-01-01", "name": "元旦"}],
             "makeup_working_days": [{"date": "2027-01-10", "name": "调休"}]}


def shipped_with_2027() -> dict[str, Any]:
    document = copy.deepcopy(json.loads(default_calendar_path("CN").read_text(encoding="utf-8")))
    document["years"]["2027"] = YEAR_2027
    return document


def end_of(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=SHANGHAI) + timedelta(days=1)


def test_everyone_sees_the_calendar_deadlines_count_with(client: TestClient, auth: Any) -> None:
    response = client.get(CALENDAR, headers=auth(Role.auditor))

    body = response.json()
    assert response.status_code == 200 and response.headers["etag"] == '"1"'
    assert body["covered_years"] == [2025, 2026] and body["document"]["code"] == "CN"


def test_adding_next_year_moves_the_deadlines_of_open_cases(client: TestClient, auth: Any, clock: Clock) -> None:
    # Registered Wednesday 30 December 2026: without 2027 in the calendar, 1 January counts as a
    # working day, so the 3-day survey limit ends on Monday 4 January.
    case_id, deadline = clock.register(connection_body(FAR), now=datetime(2026, 12, 30, 10, tzinfo=SHANGHAI))
    assert deadline == end_of(2027, 1, 4)

    response = client.put(CALENDAR, json=shipped_with_2027(), headers={**auth(Role.admin), "If-Match": '"1"'})

    body = response.json()
    assert response.status_code == 200 and body["version"] == 2 and body["covered_years"] == [2025, 2026, 2027]
    assert body["deadlines_moved"] == 1
    case = client.get(f"/api/v1/cases/{case_id}", headers=auth(Role.approver)).json()
    assert datetime.fromisoformat(case["deadline_at"]) == end_of(2027, 1, 5)  # New Year's Day no longer counts
    audit = client.get("/api/v1/audit", params={"entity_type": "working_calendar", "entity_id": "CN"},
                       headers=auth(Role.admin)).json()
    record = audit["items"][0]
    assert record["action"] == "calendar.replace" and record["actor_name"] == "test-admin"
    assert "2027" not in record["before"]["document"]["years"] and "2027" in record["after"]["document"]["years"]


def test_a_malformed_calendar_is_refused_and_nothing_changes(client: TestClient, auth: Any) -> None:
    document = shipped_with_2027()
    document["years"]["2027"]["makeup_working_days"] = [{"date": "2027-01-06", "name": "not a weekend day"}]

    response = client.put(CALENDAR, json=document, headers={**auth(Role.admin), "If-Match": '"1"'})

    assert "2027-01-06" in assert_problem(response, 422)["detail"]
    assert client.get(CALENDAR, headers=auth(Role.admin)).json()["version"] == 1


def test_only_administrators_replace_the_calendar_and_only_on_the_current_version(client: TestClient,
                                                                                 auth: Any) -> None:
    assert_problem(client.put(CALENDAR, json=shipped_with_2027(), headers={**auth(Role.approver), "If-Match": '"1"'}),
                   403)
    assert_problem(client.put(CALENDAR, json=shipped_with_2027(), headers={**auth(Role.admin), "If-Match": '"7"'}),
                   412)
    assert_problem(client.put(CALENDAR, json=shipped_with_2027(), headers=auth(Role.admin)), 428)
    assert client.get(CALENDAR, headers=auth(Role.admin)).json()["version"] == 1
