"""Publishing a solved plan: its tasks become each person's assignments, in route order, and the
inspector's device shows the route (GET /my/route and the sync pull); nobody else sees it. A stale
If-Match is 412; a plan that is not solved, or a task the assignment refuses, is a 409 and nothing
is written; publishing a newer plan for the same people and day replaces the older one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from core.outbox import OutboxEvent
from core.permissions import Role
from routing.models import RoutePlan, RouteStop
from tests.inspections.conftest import NOW
from tests.inspections.conftest import problem as problem_of
from tests.inspections.sync.conftest import DeviceLogin, device_token, forget_cached_devices  # noqa: F401
from tests.inspections.sync.test_pull import pull_all
from tests.routing.conftest import (
    Plans,
    crew_member,
    day_task,
    local,
    place,
    plan_body,
    qualify,
    route_of,
    task_ids_of,
    valid_until_next_year,
)

pytestmark = pytest.mark.usefixtures("celery_worker")
MY_ROUTE = "/api/v1/my/route"


def two_stop_plan(plans: Plans, session_factory: sessionmaker[Session]) -> tuple[dict[str, Any], list[int]]:
    """A solved plan where the inspector visits two tasks, the near one first (a window forces it)."""
    near = day_task(session_factory, place(east_m=1000), due_from=local("08:00"), due_until=local("10:00"))
    far = day_task(session_factory, place(east_m=2500), due_from=local("13:00"), due_until=local("15:00"))
    plan = plans.solved(plan_body([crew_member(plans.crew["inspector"])], task_ids=[far, near]))
    assert task_ids_of(route_of(plan, plans.crew["inspector"])) == [near, far]
    return plan, [near, far]


def device_of(plans: Plans, by: str) -> dict[str, str]:
    """The device token of a phone registered by `by`."""
    response = plans.client.post("/api/v1/devices", headers=plans.headers(by), json={
        "client_device_id": f"{by}-phone", "name": "Field phone", "platform": "android", "app_version": "1.4.0"})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def my_route(plans: Plans, by: str, **params: Any) -> dict[str, Any]:
    response = plans.client.get(MY_ROUTE, params={"date": "2026-12-01", **params}, headers=plans.headers(by))
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_publishing_assigns_the_tasks_in_route_order_and_the_inspector_sees_the_route(
        plans: Plans, session_factory: sessionmaker[Session]) -> None:
    plan, (near, far) = two_stop_plan(plans, session_factory)
    response = plans.publish(plan)
    assert response.status_code == 200, response.text
    published = response.json()
    assert (published["state"], published["version"]) == ("published", plan["version"] + 1)
    assert response.headers["ETag"] == f'"{published["version"]}"'

    inspector = plans.crew["inspector"]
    for task_id in (near, far):
        task = plans.client.get(f"/api/v1/tasks/{task_id}", headers=plans.headers("inspector")).json()
        assert (task["state"], task["assignee"]["id"]) == ("assigned", inspector.id)
    mine = my_route(plans, "inspector")
    assert (mine["user_id"], mine["plan_id"]) == (inspector.id, plan["id"])
    assert [(s["position"], s["task_id"]) for s in mine["stops"]] == [(1, near), (2, far)]
    planned = route_of(plan, inspector)["stops"]
    assert [datetime.fromisoformat(s["planned_start"]) for s in mine["stops"]] == \
        [datetime.fromisoformat(s["start"]) for s in planned]
    assert mine["stops"][0]["location"]["type"] == "Point"
    with session_factory() as db:
        announced = db.scalars(select(OutboxEvent.event_type).where(OutboxEvent.entity_type == "route_plan")).all()
    assert announced == ["route_plan.solved", "route_plan.published"]
    # The dispatcher reads anyone's; another inspector has no route and may not read this one.
    assert my_route(plans, "dispatcher", user_id=inspector.id)["stops"] == mine["stops"]
    assert my_route(plans, "inspector2")["stops"] == []
    other = plans.client.get(MY_ROUTE, params={"date": "2026-12-01", "user_id": inspector.id},
                             headers=plans.headers("inspector2"))
    assert other.status_code == 403


def test_the_route_reaches_the_inspectors_device_by_sync_pull_and_only_theirs(
        plans: Plans, session_factory: sessionmaker[Session], device_token: DeviceLogin) -> None:  # noqa: F811
    plan, (near, far) = two_stop_plan(plans, session_factory)
    assert plans.publish(plan).status_code == 200
    items, _ = pull_all(plans.client, device_token(Role.inspector, "phone-1"))
    routes = [item for item in items if item["entity_type"] == "route"]
    assert [(r["id"], r["op"]) for r in routes] == [(20261201, "upsert")]
    assert routes[0]["version"] == f"{plan['id']}:{plan['version'] + 1}"
    assert [stop["task_id"] for stop in routes[0]["data"]["stops"]] == [near, far]
    others, _ = pull_all(plans.client, device_of(plans, "inspector2"))
    assert [item for item in others if item["entity_type"] == "route"] == []


def test_a_stale_or_missing_if_match_is_refused(plans: Plans, session_factory: sessionmaker[Session]) -> None:
    plan, _ = two_stop_plan(plans, session_factory)
    problem_of(plans.publish(plan, version=plan["version"] - 1), 412)
    missing = plans.client.post(f"/api/v1/route-plans/{plan['id']}/publish", headers=plans.headers("dispatcher"))
    problem_of(missing, 428)
    assert plans.get(plan["id"])["state"] == "solved"


def test_only_a_solved_plan_is_published(plans: Plans, session_factory: sessionmaker[Session]) -> None:
    with session_factory() as db, db.begin():
        failed = RoutePlan(kind="field", state="failed", plan_date=NOW.date(), seed=1, time_limit_s=1, request={},
                           error={"status": 500})
        db.add(failed)
        db.flush()
        plan = {"id": failed.id, "version": failed.version}
    assert "failed" in problem_of(plans.publish(plan), 409)["detail"]


def test_an_assignment_the_qualification_rule_refuses_publishes_nothing(
        plans: Plans, session_factory: sessionmaker[Session], owner_engine: Engine) -> None:
    certified = plans.crew["inspector2"]
    qualify(session_factory, certified.id, "substation_entry", max_voltage_kv=35, valid_until=valid_until_next_year())
    plain = day_task(session_factory, place(east_m=300))
    switch_room = day_task(session_factory, place(east_m=600),
                           required_qualifications=[{"certificate_type": "substation_entry", "voltage_kv": 10}])
    plan = plans.solved(plan_body([crew_member(certified)], task_ids=[plain, switch_room]))
    with owner_engine.begin() as conn:  # the certificate is withdrawn before the plan is published
        conn.execute(text("DELETE FROM user_qualifications WHERE user_id = :id"), {"id": certified.id})
    refused = problem_of(plans.publish(plan), 409)
    assert f"Task {switch_room}" in refused["detail"]
    with session_factory() as db:
        assert db.query(RouteStop).count() == 0
    task = plans.client.get(f"/api/v1/tasks/{plain}", headers=plans.headers("dispatcher")).json()
    assert (task["state"], task["assignee"]) == ("planned", None)
    assert plans.get(plan["id"])["state"] == "solved"


def test_a_newer_plan_for_the_same_day_replaces_the_route_and_supersedes_the_older(
        plans: Plans, session_factory: sessionmaker[Session]) -> None:
    first, (near, far) = two_stop_plan(plans, session_factory)
    assert plans.publish(first).status_code == 200
    extra = day_task(session_factory, place(north_m=800))
    second = plans.solved(plan_body([crew_member(plans.crew["inspector"])], task_ids=[near, far, extra]))
    assert plans.publish(second).status_code == 200
    mine = my_route(plans, "inspector")
    assert mine["plan_id"] == second["id"]
    assert sorted(s["task_id"] for s in mine["stops"]) == sorted([near, far, extra])
    assert plans.get(first["id"])["state"] == "superseded"
