"""Out-of-order pushes: a finding for a task the inspector created on another device, pushed before
that task reached the server, waits in the backlog and applies when the task arrives (by a push or
by the periodic job); an item whose parent never arrives ages out into the dispatcher's queue and
leaves it only with a recorded decision."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from core.celery_app import create_celery
from core.context import Actor
from core.permissions import Role
from core.settings import Settings
from inspections import service
from inspections.workflow import TaskAction, TaskType
from tests.inspections.conftest import NOW, Field, make_task
from tests.inspections.sync.conftest import BACKLOG, MUTATIONS, Device, DeviceLogin, count_rows, item

SIGNAGE = {"severity": "minor", "category": "signage_missing", "description": "Number plate missing"}
DEADLINE_S = 60


def follow_up(task_uuid: uuid.UUID, parent: dict[str, Any] | None = None) -> dict[str, Any]:
    """A fault visit the inspector opens on site (a `task_create` item)."""
    data: dict[str, Any] = {"task_uuid": str(task_uuid), "task_type": "fault_visit", "title": "Leaning pole 14",
                            "due_from": NOW.isoformat(), "due_until": (NOW + timedelta(days=2)).isoformat(),
                            "location": {"type": "Point", "coordinates": [117.2281, 31.8209]}}
    if parent:
        data["parent_task_uuid"] = parent["uuid"]
    return item("task_create", data)


def finding_on(task_uuid: uuid.UUID) -> dict[str, Any]:
    return item("finding", {"task_uuid": str(task_uuid), **SIGNAGE})


def phone(client: TestClient, device_token: DeviceLogin, name: str = "phone-1") -> Device:
    return Device(client, device_token(Role.inspector, name), clock=NOW)


def test_a_finding_pushed_before_its_device_created_task_waits_and_applies_when_the_task_arrives(
        field: Field, client: TestClient, device_token: DeviceLogin, owner_engine: Engine) -> None:
    patrol = field.started(checklist_code="line_patrol")
    new_task = uuid.uuid4()
    create, report = follow_up(new_task, parent=patrol), finding_on(new_task)
    tablet, phone_1 = phone(client, device_token, "tablet-2"), phone(client, device_token)

    queued = tablet.push([report])[0]
    waiting = client.get(BACKLOG, params={"state": "waiting"}, headers=field.headers("dispatcher")).json()["items"]
    created = phone_1.push([create, item("task_action", {"task_uuid": str(new_task), "action": "accept"}),
                            item("task_action", {"task_uuid": str(new_task), "action": "start"})])
    later = client.get(MUTATIONS, params={"uuids": [report["uuid"]]}, headers=tablet.headers).json()["items"]

    assert queued["status"] == "queued"
    assert queued["waiting_for"] == {"entity_type": "field_task", "uuid": str(new_task)}
    assert [w["mutation_uuid"] for w in waiting] == [report["uuid"]]
    assert [r["status"] for r in created] == ["applied", "applied", "applied"]
    assert later[0]["status"] == "applied" and later[0]["entity_type"] == "finding"
    with owner_engine.connect() as conn:
        task_id, parent_id, state = conn.execute(text(
            "SELECT t.id, t.parent_task_id, t.state FROM field_tasks t WHERE t.uuid = :u"), {"u": new_task}).one()
        on_task = conn.execute(text("SELECT task_id FROM findings")).scalar_one()
    assert (on_task, parent_id, state) == (task_id, patrol["id"], "in_progress")
    assert count_rows(owner_engine, "sync_backlog", "WHERE state = 'done'") == 1
    # Pushed again, everything is a duplicate, and the finding's answer is the applied one.
    again = tablet.push([report])[0]
    assert (again["status"], again["original"]["status"]) == ("duplicate", "applied")
    assert count_rows(owner_engine, "findings") == 1


def test_a_finding_and_its_task_in_one_batch_in_the_wrong_order_both_apply(
        field: Field, client: TestClient, device_token: DeviceLogin, owner_engine: Engine) -> None:
    new_task = uuid.uuid4()
    report = finding_on(new_task)
    batch = [report, follow_up(new_task), item("task_action", {"task_uuid": str(new_task), "action": "accept"})]

    results = phone(client, device_token).push(batch)

    assert [r["status"] for r in results] == ["applied", "applied", "applied"]
    assert results[0]["entity_type"] == "finding"
    with owner_engine.connect() as conn:
        on_task = conn.execute(text("SELECT t.uuid, t.assignee_id IS NOT NULL, t.origin->>'kind' FROM findings f "
                                    "JOIN field_tasks t ON t.id = f.task_id")).one()
    assert (on_task[0], on_task[1], on_task[2]) == (new_task, True, "device")
    assert count_rows(owner_engine, "sync_backlog", "WHERE state = 'done'") == 1
    assert count_rows(owner_engine, "findings") == 1


def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Poll the database until the worker has done its part (a deadline, not a fixed sleep)."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"the worker did not {what} within {DEADLINE_S} s")


def backlog_state(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT state FROM sync_backlog")).scalar_one())


def test_the_periodic_job_applies_a_waiting_item_once_its_task_is_created_in_the_office(
        client: TestClient, device_token: DeviceLogin, settings: Settings, celery_worker: Any,
        session_factory: sessionmaker[Session], role_users: dict[Role, int], owner_engine: Engine) -> None:
    new_task = uuid.uuid4()
    device = Device(client, device_token(Role.inspector, "phone-1"))
    assert device.push([finding_on(new_task)])[0]["status"] == "queued"
    now = datetime.now(UTC)
    task_id = make_task(session_factory, now=now, uuid=new_task, task_type=TaskType.fault_visit,
                        assignee_id=role_users[Role.inspector])
    inspector = Actor(user_id=role_users[Role.inspector], username="test-inspector", role=Role.inspector)
    with session_factory() as db, db.begin():
        for action in (TaskAction.accept, TaskAction.start):
            service.act(db=db, actor=inspector, now=now, task_id=task_id, action=action, expected_version=None)

    create_celery(settings).send_task("inspections.sync.process_backlog")

    wait_for(lambda: backlog_state(owner_engine) == "done", "apply the waiting finding")
    with owner_engine.connect() as conn:
        assert conn.execute(text("SELECT task_id FROM findings")).scalar_one() == task_id
        assert conn.execute(text("SELECT status FROM sync_mutations")).scalar_one() == "applied"


def test_an_item_whose_parent_never_arrives_ages_into_the_dispatchers_queue_and_leaves_it_only_by_a_decision(
        client: TestClient, device_token: DeviceLogin, auth: Callable[[Role], dict[str, str]], settings: Settings,
        celery_worker: Any, owner_engine: Engine) -> None:
    lost = finding_on(uuid.uuid4())
    device = Device(client, device_token(Role.inspector, "phone-1"))
    device.push([lost])
    with owner_engine.begin() as conn:  # pushed three days and an hour ago (the limit is 72 h)
        conn.execute(text("UPDATE sync_backlog SET since = now() - interval '73 hours'"))

    create_celery(settings).send_task("inspections.sync.process_backlog")
    wait_for(lambda: backlog_state(owner_engine) == "expired", "age the item out")

    dispatcher = auth(Role.dispatcher)
    [expired] = client.get(BACKLOG, params={"state": "expired"}, headers=dispatcher).json()["items"]
    seen_by_device = client.get(MUTATIONS, params={"uuids": [lost["uuid"]]}, headers=device.headers).json()["items"]
    resolve = f"{BACKLOG}/{expired['id']}/resolve"
    retry = client.post(resolve, json={"action": "retry"}, headers=dispatcher)
    silent = client.post(resolve, json={"action": "discard"}, headers=dispatcher)
    by_inspector = client.post(resolve, json={"action": "discard", "note": "mine"}, headers=auth(Role.inspector))
    discarded = client.post(resolve, json={"action": "discard", "note": "Task was never created; report again"},
                            headers=dispatcher)
    after = client.get(MUTATIONS, params={"uuids": [lost["uuid"]]}, headers=device.headers).json()["items"]

    assert expired["mutation_uuid"] == lost["uuid"] and expired["item"]["kind"] == "finding"
    assert seen_by_device[0]["status"] == "expired"
    assert retry.status_code == 409 and "still not on the server" in retry.json()["detail"]
    assert silent.status_code == 422
    assert by_inspector.status_code == 403
    assert discarded.status_code == 200 and discarded.json()["state"] == "discarded", discarded.text
    assert after[0]["status"] == "rejected"
    assert "Task was never created" in after[0]["problem"]["detail"]
    assert count_rows(owner_engine, "audit_log", "WHERE entity_type = 'sync_backlog'") == 2  # expired, discarded
    assert count_rows(owner_engine, "outbox_events", "WHERE event_type = 'sync_backlog.expired'") == 1
