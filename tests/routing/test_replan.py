"""Re-planning mid-day around urgent work: the urgent task goes to the crew member who reaches it
soonest, the plan says who and why; work done is left out, work under way keeps its inspector
there, assigned work stays with its person; only a published field plan is re-planned."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from core.context import Actor
from inspections import service as task_service
from inspections.workflow import TaskAction
from tests.conftest import Person
from tests.inspections.conftest import NOW
from tests.inspections.conftest import problem as problem_of
from tests.routing.conftest import PLANS, Plans, crew_member, day_task, place, plan_body, route_of, task_ids_of

pytestmark = pytest.mark.usefixtures("celery_worker")
WEST, EAST = place(east_m=-4000), place(east_m=4000)


def published_day(plans: Plans, session_factory: sessionmaker[Session]) -> tuple[dict[str, Any], list[int], list[int]]:
    """Inspector works the west side, inspector2 the east side; the plan is published."""
    west = [day_task(session_factory, place(east_m=-4000 + d, north_m=300)) for d in (0, 400)]
    east = [day_task(session_factory, place(east_m=4000 + d, north_m=300)) for d in (0, 400)]
    crews = [crew_member(plans.crew["inspector"], start=WEST), crew_member(plans.crew["inspector2"], start=EAST)]
    plan = plans.solved(plan_body(crews, task_ids=[*west, *east]))
    assert sorted(task_ids_of(route_of(plan, plans.crew["inspector"]))) == west
    response = plans.publish(plan)
    assert response.status_code == 200, response.text
    return response.json(), west, east


def replan(plans: Plans, plan: dict[str, Any], **body: Any) -> dict[str, Any]:
    response = plans.client.post(f"{PLANS}/{plan['id']}/replan", json=body, headers=plans.headers("dispatcher"))
    assert response.status_code == 202, response.text
    assert response.json()["parent_id"] == plan["id"]
    done = plans.wait(response.json()["id"])
    assert done["state"] == "solved", done["error"]
    return done


def act(session_factory: sessionmaker[Session], person: Person, task_id: int, *actions: TaskAction) -> None:
    me = Actor(user_id=person.id, username=person.username, role=person.role)
    with session_factory() as db, db.begin():
        for action in actions:
            task_service.act(db=db, actor=me, now=NOW, task_id=task_id, action=action, expected_version=None)


def test_an_urgent_task_goes_to_the_crew_member_who_reaches_it_soonest(
        plans: Plans, session_factory: sessionmaker[Session]) -> None:
    plan, west, east = published_day(plans, session_factory)
    fault = day_task(session_factory, place(east_m=3000, north_m=-500), priority=1, title="Fault on feeder 7")
    new = replan(plans, plan, at=NOW.isoformat(), urgent_task_ids=[fault])

    inspector, inspector2 = plans.crew["inspector"], plans.crew["inspector2"]
    (choice,) = new["result"]["urgent"]
    assert (choice["job_key"], choice["user_id"]) == (f"task:{fault}", inspector2.id)
    reach = {int(user): minutes for user, minutes in choice["reach_minutes"].items()}
    assert reach[inspector2.id] < reach[inspector.id]
    arrival = {int(user): at for user, at in choice["earliest_arrival"].items()}
    assert arrival[inspector2.id] < arrival[inspector.id]
    assert "soonest" in choice["why"]
    assert fault in task_ids_of(route_of(new, inspector2))
    # The assigned work stays with each person; nobody is planned before the re-plan's moment.
    assert sorted(task_ids_of(route_of(new, inspector))) == west
    assert set(east) <= set(task_ids_of(route_of(new, inspector2)))
    assert all(stop["arrival"] >= "2026-12-01T09:00" for route in new["result"]["routes"] for stop in route["stops"])


def test_several_urgent_tasks_are_inserted_most_urgent_first_each_to_the_nearest(
        plans: Plans, session_factory: sessionmaker[Session]) -> None:
    plan, _, _ = published_day(plans, session_factory)
    west_fault = day_task(session_factory, place(east_m=-3000), priority=2, title="Leaning pole")
    east_fault = day_task(session_factory, place(east_m=3000), priority=1, title="Line down")
    new = replan(plans, plan, at=NOW.isoformat(), urgent_task_ids=[west_fault, east_fault])
    chosen = [(c["job_key"], c["user_id"]) for c in new["result"]["urgent"]]
    assert chosen == [(f"task:{east_fault}", plans.crew["inspector2"].id),
                      (f"task:{west_fault}", plans.crew["inspector"].id)]


def test_a_position_given_moves_the_crew_member_and_an_urgent_ad_hoc_job_follows_it(
        plans: Plans, session_factory: sessionmaker[Session]) -> None:
    plan, _, _ = published_day(plans, session_factory)
    inspector = plans.crew["inspector"]
    # The west inspector has driven east and is now beside the urgent job.
    urgent = {"ref": "pole-down", "location": place(east_m=2500), "priority": 1, "service_minutes": 15}
    new = replan(plans, plan, at=NOW.isoformat(), urgent_jobs=[urgent],
                 positions={str(inspector.id): place(east_m=2400)})
    (choice,) = new["result"]["urgent"]
    assert (choice["job_key"], choice["user_id"]) == ("job:pole-down", inspector.id)
    first = route_of(new, inspector)["stops"][0]
    assert first["job_ref"] == "pole-down"
    assert first["travel_minutes"] < 1  # 100 m from where they are, not 6.5 km from their morning start


def test_work_done_is_left_out_and_work_under_way_holds_its_inspector_there(
        plans: Plans, session_factory: sessionmaker[Session]) -> None:
    plan, west, east = published_day(plans, session_factory)
    inspector = plans.crew["inspector"]
    act(session_factory, inspector, west[0], TaskAction.accept, TaskAction.start, TaskAction.submit)
    act(session_factory, inspector, west[1], TaskAction.accept, TaskAction.start)
    new = replan(plans, plan, at=NOW.isoformat())
    assert task_ids_of(route_of(new, inspector)) == []
    assert sorted(task_ids_of(route_of(new, plans.crew["inspector2"]))) == sorted(east)


def test_work_sent_back_stays_with_its_inspector_and_the_re_plan_publishes(
        plans: Plans, session_factory: sessionmaker[Session]) -> None:
    plan, west, _ = published_day(plans, session_factory)
    inspector, supervisor = plans.crew["inspector"], plans.crew["supervisor"]
    act(session_factory, inspector, west[0], TaskAction.accept, TaskAction.start, TaskAction.submit)
    reviewer = Actor(user_id=supervisor.id, username=supervisor.username, role=supervisor.role)
    with session_factory() as db, db.begin():
        task_service.act(db=db, actor=reviewer, now=NOW, task_id=west[0], action=TaskAction.send_back,
                         expected_version=None, reason="photo of the pole number missing")
    new = replan(plans, plan, at=NOW.isoformat())
    assert west[0] in task_ids_of(route_of(new, inspector))
    assert plans.publish(new).status_code == 200
    task = plans.client.get(f"/api/v1/tasks/{west[0]}", headers=plans.headers("inspector")).json()
    assert (task["state"], task["assignee"]["id"]) == ("sent_back", inspector.id)
    assert plans.get(plan["id"])["state"] == "superseded"


def test_only_a_published_plan_is_replanned_and_positions_name_crew_members(
        plans: Plans, session_factory: sessionmaker[Session]) -> None:
    plan = plans.solved(plan_body([crew_member(plans.crew["inspector"])],
                                  task_ids=[day_task(session_factory, place(east_m=500))]))
    refused = plans.client.post(f"{PLANS}/{plan['id']}/replan", json={}, headers=plans.headers("dispatcher"))
    assert "published" in problem_of(refused, 409)["detail"]
    assert plans.publish(plan).status_code == 200
    stranger = plans.client.post(f"{PLANS}/{plan['id']}/replan", json={"positions": {"999": place()}},
                                 headers=plans.headers("dispatcher"))
    assert problem_of(stranger, 422)["errors"][0]["field"] == "positions.999"
