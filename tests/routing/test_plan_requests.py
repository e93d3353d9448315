"""Asking for a plan: bad input is a 422 naming the field and writes nothing; a good request is
202 with the queued plan and its Location; the same uuid again is the same plan (200), with another
body a 409; only planners ask."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from core.context import Actor
from inspections import service as task_service
from inspections.workflow import TaskAction
from tests.inspections.conftest import NOW
from tests.routing.conftest import PLANS, Plans, crew_member, day_task, place, plan_body


def job(ref: str = "meter-swap-1", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"ref": ref, "location": place(east_m=800)}
    body.update(changes)
    return body


def one_crew(plans: Plans, **changes: Any) -> list[dict[str, Any]]:
    return [crew_member(plans.crew["inspector"], **changes)]


def test_a_good_request_is_queued_with_its_location_and_version(plans: Plans) -> None:
    response = plans.ask(plan_body(one_crew(plans), jobs=[job()]))
    assert response.status_code == 202, response.text
    plan = response.json()
    assert (plan["state"], plan["kind"], plan["date"], plan["seed"], plan["time_limit_s"]) == \
        ("queued", "field", "2026-12-01", 7, 1)
    assert response.headers["Location"] == f"{PLANS}/{plan['id']}"
    assert response.headers["ETag"] == f'"{plan["version"]}"'
    assert plan["travel_source"] == "estimate"  # no road network loaded: the plan will say so


@pytest.mark.parametrize(("crew_changes", "field"), [
    ({"shift": None}, "crews.0.shift"),
    ({"shift": {"start": "17:30", "end": "08:30"}}, "crews.0.shift"),
    ({"shift": {"start": "08:30", "end": "08:30"}}, "crews.0.shift"),
    ({"shift": {"start": "8 o'clock", "end": "17:30"}}, "crews.0.shift.start"),
    ({"start": {"lon": 200, "lat": 31.8}}, "crews.0.start.lon"),
    ({"mode": "helicopter"}, "crews[0].mode"),
    ({"user_id": 987654}, "crews[0].user_id"),
], ids=["no shift", "shift ends before it starts", "empty shift", "shift not a time", "start out of range",
        "unknown mode", "unknown user"])
def test_a_crew_member_that_cannot_be_planned_is_named(plans: Plans, crew_changes: dict[str, Any], field: str) -> None:
    member = {k: v for k, v in crew_member(plans.crew["inspector"], **crew_changes).items() if v is not None}
    assert field in plans.fields(plan_body([member], jobs=[job()]))


def test_someone_who_does_no_field_work_is_not_a_crew_member(plans: Plans) -> None:
    assert plans.fields(plan_body([crew_member(plans.crew["auditor"])], jobs=[job()])) == ["crews[0].user_id"]


def test_the_same_person_twice_is_refused(plans: Plans) -> None:
    member = crew_member(plans.crew["inspector"])
    assert plans.fields(plan_body([member, member], jobs=[job()])) == ["crews[1].user_id"]


@pytest.mark.parametrize(("job_changes", "field"), [
    ({"location": None}, "jobs.0.location"),
    ({"location": {"type": "LineString", "coordinates": [[117.2, 31.8], [117.3, 31.9]]}}, "jobs.0.location"),
    ({"location": {"lon": 117.2, "lat": 95}}, "jobs.0.location.lat"),
    ({"location": {"type": "Point", "coordinates": [117.2, -91]}}, "jobs.0.location.lat"),
    ({"window": {"start": "2026-12-01T14:00:00+08:00", "end": "2026-12-01T10:00:00+08:00"}}, "jobs.0.window"),
    ({"window": {"start": "2026-12-03T10:00:00+08:00", "end": "2026-12-03T11:00:00+08:00"}}, "jobs[0].window"),
    ({"window": {"start": "0001-01-01T00:00:00+05:00", "end": "0001-01-01T01:00:00+05:00"}}, "jobs[0].window"),
    ({"priority": 9}, "jobs.0.priority"),
], ids=["no location", "not a point", "latitude out of range", "GeoJSON latitude out of range",
        "window ends before it starts", "window not on the plan day", "window in year 1", "priority out of range"])
def test_a_job_that_cannot_be_planned_is_named(plans: Plans, job_changes: dict[str, Any], field: str) -> None:
    body = {k: v for k, v in job(**job_changes).items() if v is not None}
    assert field in plans.fields(plan_body(one_crew(plans), jobs=[body]))


def test_the_last_calendar_day_cannot_be_planned(plans: Plans) -> None:
    assert plans.fields(plan_body(one_crew(plans), jobs=[job()], date="9999-12-31")) == ["date"]


def test_duplicate_job_refs_are_refused(plans: Plans) -> None:
    assert plans.fields(plan_body(one_crew(plans), jobs=[job("a"), job("b"), job("a")])) == ["jobs[2].ref"]


def test_nothing_to_plan_is_refused(plans: Plans) -> None:
    assert plans.fields(plan_body(one_crew(plans))) == ["task_ids"]


def test_a_time_limit_beyond_the_rules_maximum_is_refused(plans: Plans) -> None:
    assert plans.fields(plan_body(one_crew(plans), jobs=[job()], time_limit_s=121)) == ["time_limit_s"]


def test_unknown_tasks_are_named_by_their_position(plans: Plans, session_factory: sessionmaker[Session]) -> None:
    known = day_task(session_factory, place(east_m=500))
    assert plans.fields(plan_body(one_crew(plans), task_ids=[known, known + 100])) == ["task_ids[1]"]


@pytest.mark.parametrize("action", [TaskAction.cancel, TaskAction.start])
def test_tasks_that_are_not_plannable_are_refused(plans: Plans, session_factory: sessionmaker[Session],
                                                  action: TaskAction) -> None:
    """Cancelled (or closed, submitted) work is not planned; neither is work already begun."""
    task_id = day_task(session_factory, place(east_m=500))
    inspector = plans.crew["inspector"]
    with session_factory() as db, db.begin():
        actor = Actor.system("tests")
        if action is TaskAction.start:
            task_service.act(db=db, actor=actor, now=NOW, task_id=task_id, action=TaskAction.assign,
                             expected_version=None, assignee_id=inspector.id)
            me = Actor(user_id=inspector.id, username=inspector.username, role=inspector.role)
            task_service.act(db=db, actor=me, now=NOW, task_id=task_id, action=TaskAction.accept, expected_version=None)
            task_service.act(db=db, actor=me, now=NOW, task_id=task_id, action=TaskAction.start, expected_version=None)
        else:
            task_service.act(db=db, actor=actor, now=NOW, task_id=task_id, action=action, expected_version=None,
                             reason="no longer needed")
    found = plans.refused(plan_body(one_crew(plans), task_ids=[task_id]))
    assert found["errors"][0]["field"] == "task_ids[0]"


def test_a_task_not_yet_due_on_the_plan_day_is_refused(plans: Plans, session_factory: sessionmaker[Session]) -> None:
    later = day_task(session_factory, place(east_m=500), due_from=NOW.replace(day=5), due_until=NOW.replace(day=9))
    assert plans.fields(plan_body(one_crew(plans), task_ids=[later])) == ["task_ids[0]"]


def test_the_same_uuid_and_body_answer_the_first_plan_and_another_body_is_a_conflict(plans: Plans) -> None:
    body = plan_body(one_crew(plans), jobs=[job()], uuid=str(uuid.uuid4()))
    first = plans.ask(body)
    again = plans.ask(body)
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["id"] == first.json()["id"]
    changed = plans.ask({**body, "jobs": [job(priority=1)]})
    assert changed.status_code == 409
    assert body["uuid"] in changed.json()["detail"]


def test_the_same_uuid_sent_twice_at_once_is_one_plan(plans: Plans) -> None:
    body = plan_body(one_crew(plans), jobs=[job()], uuid=str(uuid.uuid4()))
    start = threading.Barrier(2)

    def send(_: int) -> Any:
        start.wait()
        return plans.ask(body)

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(send, range(2)))
    assert sorted(a.status_code for a in answers) == [200, 202]
    assert answers[0].json()["id"] == answers[1].json()["id"]


def test_an_inspector_cannot_ask_for_plans(plans: Plans) -> None:
    response = plans.ask(plan_body(one_crew(plans), jobs=[job()]), by="inspector")
    assert response.status_code == 403
    assert plans.client.get(PLANS, headers=plans.headers("inspector")).status_code == 403
