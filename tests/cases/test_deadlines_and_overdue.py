"""Stage deadlines in working days on the CN holiday calendar, the overdue list, and the daily
Celery job that flags and escalates overdue cases.

Deadlines at a fixed moment go through the API with its clock set by the test (the `clock`
fixture); 2026's National Day holiday (1-7 October) is followed by a make-up working Saturday
(10 October), so a case registered on 30 September shows both.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from celery.schedules import crontab
from sqlalchemy import Engine, text

from cases.workflow import Action
from core.celery_app import create_celery
from core.settings import Settings
from gridwarden.domains import installed
from tests.cases.conftest import FAR, Clock, Desk, Person, connection_body

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(day: int, hour: int = 10, month: int = 10) -> datetime:
    """A moment in 2026, Beijing time."""
    return datetime(2026, month, day, hour, tzinfo=SHANGHAI)


def end_of(day: int, month: int = 10) -> datetime:
    """The end of a day in 2026, Beijing time: the instant a deadline on that day passes."""
    return datetime(2026, month, day, tzinfo=SHANGHAI) + timedelta(days=1)


# --- 7. Deadlines ------------------------------------------------------------------------------------


def test_survey_deadline_skips_national_day_and_counts_the_makeup_saturday(clock: Clock) -> None:
    case_id, deadline = clock.register(connection_body(load_kw=10.0), now=datetime(2026, 9, 30, 10, tzinfo=SHANGHAI))

    # 3 working days after Wednesday 30 September: 8 Oct (Thu), 9 Oct (Fri), 10 Oct (make-up Saturday).
    assert deadline == end_of(10)
    assert clock.remaining(case_id, now=local(8)) == (2, False)
    assert clock.remaining(case_id, now=local(9)) == (1, False)
    assert clock.remaining(case_id, now=local(10, hour=17)) == (0, False)
    assert clock.remaining(case_id, now=local(11, hour=9)) == (0, True)  # a Sunday: overdue, no working day lost
    assert clock.remaining(case_id, now=local(12)) == (-1, True)


def test_assigning_the_surveyor_does_not_restart_the_survey_clock(clock: Clock, people: dict[str, Person]) -> None:
    case_id, deadline = clock.register(connection_body(), now=datetime(2026, 9, 30, 10, tzinfo=SHANGHAI))

    state, after = clock.act(case_id, Action.assign_survey, by="approver", now=local(9),
                             assignee_id=people["inspector"].id)

    assert state == "survey_assigned" and after == deadline == end_of(10)


@pytest.mark.parametrize(("body", "expected"), [
    (connection_body(load_kw=10.0), end_of(12)),  # 2 working days: 10 Oct (make-up Saturday), 12 Oct (Mon)
    (connection_body(load_kw=270.0, voltage_kv=10.0, requested_capacity_kva=300.0), end_of(15)),  # 5: 10, 12-15
], ids=["lv-2-working-days", "10kv-5-working-days"])
def test_decision_stage_gets_two_working_days_for_lv_and_five_for_10kv(clock: Clock, body: dict[str, Any],
                                                                     expected: datetime) -> None:
    case_id, _ = clock.register(body, now=datetime(2026, 9, 30, 10, tzinfo=SHANGHAI))

    state, deadline = clock.surveyed(case_id, now=local(9, hour=15))

    assert state == "surveyed" and deadline == expected


def test_hazard_notice_sets_the_rectification_period_the_officer_chose(clock: Clock) -> None:
    case_id, _ = clock.register(connection_body(), now=datetime(2026, 9, 28, 10, tzinfo=SHANGHAI))
    clock.surveyed(case_id, now=local(29, month=9), hazard=True)

    state, deadline = clock.act(case_id, Action.issue_hazard_notice, by="approver", now=local(30, month=9),
                                measures=["拆除彩钢棚"], rectification_days=5)

    assert state == "hazard_notice_issued" and deadline == end_of(13)  # 8, 9, 10 (make-up), 12, 13 October


def test_each_case_shows_its_remaining_time_and_whether_it_is_overdue(desk: Desk, owner_engine: Engine) -> None:
    on_time = desk.register(connection_body())
    late = desk.register(connection_body())
    set_deadline(owner_engine, late["id"], datetime.now(UTC) - timedelta(days=3))

    fresh = desk.get(on_time)["remaining"]
    assert (fresh["working_days"], fresh["overdue"]) == (3, False)
    assert fresh["seconds"] > 0
    shown = desk.get(late)["remaining"]
    assert shown["overdue"] is True and shown["seconds"] < 0 and shown["working_days"] <= 0


# --- 8. Overdue list and the daily job ---------------------------------------------------------------


def set_deadline(engine: Engine, case_id: int, deadline: datetime) -> None:
    """Move a case's deadline (as the schema owner), as if its stage had started long ago."""
    with engine.begin() as conn:
        conn.execute(text("UPDATE cases SET deadline_at = :deadline WHERE id = :id"),
                     {"deadline": deadline, "id": case_id})


@pytest.fixture
def overdue_mix(desk: Desk, owner_engine: Engine) -> dict[str, dict[str, Any]]:
    """Three cases: open and past its deadline, open and in time, closed with a past deadline."""
    cases = {"late": desk.register(connection_body()), "in_time": desk.register(connection_body())}
    closed = desk.act(desk.surveyed(desk.register(connection_body(FAR)), hazard=False), "approve", by="approver")
    cases["closed"] = closed
    past = datetime.now(UTC) - timedelta(days=2)
    set_deadline(owner_engine, cases["late"]["id"], past)
    set_deadline(owner_engine, closed["id"], past)
    return cases


def test_overdue_list_shows_only_open_cases_past_their_deadline(desk: Desk,
                                                               overdue_mix: dict[str, dict[str, Any]]) -> None:
    response = desk.client.get("/api/v1/cases", params={"overdue": "true"},
                               headers=desk.people["approver"].headers)

    assert response.status_code == 200, response.text
    assert [c["id"] for c in response.json()["items"]] == [overdue_mix["late"]["id"]]
    everything = desk.client.get("/api/v1/cases", headers=desk.people["approver"].headers).json()
    assert len(everything["items"]) == 3


def test_daily_job_flags_and_escalates_each_overdue_case_once(
        desk: Desk, owner_engine: Engine, settings: Settings, celery_worker: object,
        overdue_mix: dict[str, dict[str, Any]]) -> None:
    celery = create_celery(settings)
    late = overdue_mix["late"]

    assert celery.send_task("cases.flag_overdue").get(timeout=30) == [late["id"]]

    flagged = desk.get(late)
    assert flagged["escalation_level"] == 1 and flagged["overdue_flagged_at"] is not None
    # Flagging is not an edit: the officer's ETag stays valid.
    assert flagged["version"] == late["version"] and flagged["state"] == late["state"]
    event = flagged["history"][-1]
    assert event["action"] == "escalate_overdue" and event["actor"] == "system:overdue-check"
    assert event["details"]["escalation_level"] == 1 and event["details"]["reported_to"]
    assert outbox_events(owner_engine, "case.escalate_overdue") == [str(late["id"])]

    assert celery.send_task("cases.flag_overdue").get(timeout=30) == []
    assert desk.get(late)["escalation_level"] == 1
    for name in ("in_time", "closed"):
        untouched = desk.get(overdue_mix[name])
        assert untouched["escalation_level"] == 0 and untouched["version"] == overdue_mix[name]["version"]
    assert outbox_events(owner_engine, "case.escalate_overdue") == [str(late["id"])]


def outbox_events(engine: Engine, event_type: str) -> list[str]:
    """Entity ids of the outbox events of one type, oldest first."""
    with engine.connect() as conn:
        return [row[0] for row in conn.execute(text(
            "SELECT entity_id FROM outbox_events WHERE event_type = :type ORDER BY id"), {"type": event_type})]


def test_beat_runs_the_overdue_check_once_every_day(settings: Settings) -> None:
    schedule = create_celery(settings, installed()).conf.beat_schedule
    (entry,) = [e for e in schedule.values() if e["task"] == "cases.flag_overdue"]
    every = entry["schedule"]

    assert isinstance(every, crontab)
    assert every.day_of_week == set(range(7)) and every.day_of_month == set(range(1, 32))
    assert every.month_of_year == set(range(1, 13))
    assert len(every.hour) == 1 and len(every.minute) == 1


def test_request_number_counts_by_the_local_year(clock: Clock) -> None:
    new_year_in_beijing = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)  # 1 January 2027, 01:30 local

    case_id, _ = clock.register(connection_body(), now=new_year_in_beijing)

    assert clock.number(case_id) == "GW-YK-2027-000001"
