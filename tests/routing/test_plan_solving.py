"""A plan asked for is solved by the real worker: routes with times a person can check by hand on the
estimate path, skills respected, the jobs left out with their reason, progress and the map's features;
a plan whose input went bad meanwhile fails with the reason, and a repeated message changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.celery_app import create_celery
from core.context import Actor
from core.outbox import OutboxEvent
from core.settings import Settings
from inspections import service as task_service
from inspections.workflow import TaskAction
from routing.models import RoutePlan
from tests.inspections.conftest import NOW
from tests.routing.conftest import (
    PLANS,
    Plans,
    crew_member,
    day_task,
    estimated_s,
    local,
    place,
    plan_body,
    qualify,
    route_of,
    task_ids_of,
    valid_until_next_year,
)

pytestmark = pytest.mark.usefixtures("celery_worker")
SERVICE_LINE_PATROL = timedelta(minutes=30)  # routing.json service_minutes.line_patrol


def at(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def stored_plan(plans: Plans, session_factory: sessionmaker[Session], task_id: int, **fields: Any) -> int:
    """A plan row for one task, as the API stores it, in the state `fields` say (a worker's view)."""
    body = plan_body([crew_member(plans.crew["inspector"])], task_ids=[task_id])
    with session_factory() as db, db.begin():
        plan = RoutePlan(kind="field", plan_date=NOW.date(), seed=7, time_limit_s=1,
                         request={"kind": "field", "body": body}, **fields)
        db.add(plan)
        db.flush()
        return plan.id


def test_one_inspector_visits_the_morning_appointment_first_at_times_that_add_up(
        plans: Plans, session_factory: sessionmaker[Session]) -> None:
    depot, east, north = place(), place(east_m=3000), place(north_m=3000)
    afternoon = day_task(session_factory, north, due_from=local("14:00"), due_until=local("15:00"))
    morning = day_task(session_factory, east, due_from=local("09:00"), due_until=local("10:00"))
    inspector = plans.crew["inspector"]
    plan = plans.solved(plan_body([crew_member(inspector)], task_ids=[afternoon, morning]))

    result = plan["result"]
    assert (result["travel_source"], result["estimate"], result["unassigned"]) == ("estimate", True, [])
    route = route_of(plan, inspector)
    assert task_ids_of(route) == [morning, afternoon]
    first, second = route["stops"]
    # 3 km x 1.3 at 30 km/h = 7.8 min from the depot; service inside its window, half an hour on the line.
    assert first["travel_minutes"] == pytest.approx(estimated_s(depot, east) / 60, abs=0.2)
    assert at(first["arrival"]) - at(route["leave_start"]) == pytest.approx(
        timedelta(seconds=estimated_s(depot, east)), abs=timedelta(seconds=60))
    assert local("09:00") <= at(first["start"]) <= local("10:00")
    assert at(first["departure"]) - at(first["start"]) == SERVICE_LINE_PATROL
    assert abs((at(second["arrival"]) - at(first["departure"])).total_seconds() - estimated_s(east, north)) <= 60
    # The afternoon window opens at 14:00: service starts then, and the day ends on the way back.
    assert at(second["start"]) == local("14:00")
    waited = (at(second["start"]) - at(second["arrival"])).total_seconds() / 60
    assert waited == pytest.approx(second["wait_minutes"], abs=0.1) and waited > 0
    assert at(route["return_end"]) - at(second["departure"]) == pytest.approx(
        timedelta(seconds=estimated_s(north, depot)), abs=timedelta(seconds=60))
    assert route["totals"]["service_minutes"] == 60
    assert route["geometry"]["type"] == "LineString"
    assert plan["progress"] == 1.0 and plan["solved_at"] is not None


def test_work_that_needs_a_certificate_goes_to_the_holder_and_work_nobody_may_do_is_explained(
        plans: Plans, session_factory: sessionmaker[Session]) -> None:
    inspector, certified = plans.crew["inspector"], plans.crew["inspector2"]
    qualify(session_factory, certified.id, "substation_entry", max_voltage_kv=35, valid_until=valid_until_next_year())
    switch_room = day_task(session_factory, place(east_m=200),
                           required_qualifications=[{"certificate_type": "substation_entry", "voltage_kv": 10}])
    live_line = day_task(session_factory, place(east_m=400),
                         required_qualifications=[{"certificate_type": "live_work", "voltage_kv": 10}])
    crews = [crew_member(inspector), crew_member(certified, start=place(east_m=6000))]
    plan = plans.solved(plan_body(crews, task_ids=[switch_room, live_line]))

    assert task_ids_of(route_of(plan, certified)) == [switch_room]
    assert task_ids_of(route_of(plan, inspector)) == []
    (left_out,) = plan["result"]["unassigned"]
    assert (left_out["task_id"], left_out["reason"]) == (live_line, "no_skill")
    assert left_out["detail"]


def test_the_map_gets_a_line_per_route_and_a_point_per_stop(plans: Plans, session_factory: sessionmaker[Session]
                                                            ) -> None:
    tasks = [day_task(session_factory, place(east_m=1000 * n)) for n in (1, 2)]
    plan = plans.solved(plan_body([crew_member(plans.crew["inspector"])], task_ids=tasks))
    features = plans.client.get(f"{PLANS}/{plan['id']}/features", headers=plans.headers("dispatcher")).json()
    kinds = sorted(f["properties"]["kind"] for f in features["features"])
    assert (features["type"], kinds) == ("FeatureCollection", ["route", "stop", "stop"])
    assert {f["geometry"]["type"] for f in features["features"]} == {"LineString", "Point"}


def test_plans_are_listed_by_day_and_state(plans: Plans, session_factory: sessionmaker[Session]) -> None:
    plan = plans.solved(plan_body([crew_member(plans.crew["inspector"])],
                                  task_ids=[day_task(session_factory, place(east_m=500))]))
    listed = plans.client.get(PLANS, params={"date": "2026-12-01", "state": "solved"},
                              headers=plans.headers("dispatcher")).json()
    assert [p["id"] for p in listed["items"]] == [plan["id"]]
    other_day = plans.client.get(PLANS, params={"date": "2026-12-02"}, headers=plans.headers("dispatcher")).json()
    assert other_day["items"] == []


def test_a_task_cancelled_before_the_worker_solves_fails_the_plan_naming_it(
        plans: Plans, session_factory: sessionmaker[Session], settings: Settings) -> None:
    task_id = day_task(session_factory, place(east_m=500))
    # What the API stores for this body, queued; the task is cancelled before the message arrives.
    plan_id = stored_plan(plans, session_factory, task_id, state="queued")
    with session_factory() as db, db.begin():
        task_service.act(db=db, actor=Actor.system("tests"), now=NOW, task_id=task_id, action=TaskAction.cancel,
                         expected_version=None, reason="storm")
    create_celery(settings).send_task("routing.solve_plan", args=[plan_id, None]).get(timeout=60)
    failed = plans.get(plan_id)
    assert failed["state"] == "failed"
    assert failed["error"]["status"] == 422
    assert failed["error"]["errors"][0]["field"] == "task_ids[0]"


def test_a_repeated_message_for_a_solved_plan_changes_nothing(plans: Plans, session_factory: sessionmaker[Session],
                                                              settings: Settings) -> None:
    plan = plans.solved(plan_body([crew_member(plans.crew["inspector"])],
                                  task_ids=[day_task(session_factory, place(east_m=500))]))
    outcome = create_celery(settings).send_task("routing.solve_plan", args=[plan["id"], None]).get(timeout=60)
    assert outcome == "nothing to do"
    assert plans.get(plan["id"]) == plan


def test_a_plan_left_solving_by_a_lost_worker_is_solved_again_by_the_relay(
        plans: Plans, session_factory: sessionmaker[Session], settings: Settings) -> None:
    task_id = day_task(session_factory, place(east_m=500))
    # Claimed by a worker that died an hour ago, beyond its time limit and margin.
    plan_id = stored_plan(plans, session_factory, task_id, state="solving",
                          started_at=datetime.now(UTC) - timedelta(hours=1))
    resent = create_celery(settings).send_task("routing.relay").get(timeout=60)
    assert plan_id in resent
    assert plans.wait(plan_id)["state"] == "solved"


def test_solved_and_failed_plans_are_announced(plans: Plans, session_factory: sessionmaker[Session]) -> None:
    plan = plans.solved(plan_body([crew_member(plans.crew["inspector"])],
                                  task_ids=[day_task(session_factory, place(east_m=500))]))
    with session_factory() as db:
        events = db.execute(select(OutboxEvent.event_type, OutboxEvent.entity_id)
                            .where(OutboxEvent.entity_type == "route_plan")).all()
    assert [tuple(e) for e in events] == [("route_plan.solved", str(plan["id"]))]
