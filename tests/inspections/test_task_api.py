"""Dispatchers plan field tasks at a place or an asset, inspectors see their own, and every change
names the version it is based on (If-Match): a stale one is 412 over the API, never merged."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.factories import created
from tests.inspections.conftest import NOW, TASKS, Field, if_match, point, problem, task_body


def rows(engine: Engine, sql: str, **params: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(text(sql), params).mappings()]


def test_a_dispatcher_plans_a_task_at_a_place_and_reads_it_back_with_its_version_as_etag(
        field: Field, owner_engine: Engine) -> None:
    task = field.create(title="Patrol feeder 12", priority=2, checklist_code="line_patrol",
                        required_qualifications=[{"certificate_type": "overhead_line", "voltage_kv": 10}])

    assert task["state"] == "planned" and task["version"] == 1 and task["priority"] == 2
    assert task["location"] == point()
    assert task["checklist"]["code"] == "line_patrol" and task["checklist"]["version"] == 1
    assert task["required_qualifications"] == [{"certificate_type": "overhead_line", "voltage_kv": 10.0}]
    assert set(task["allowed_actions"]) == {"assign", "cancel"}
    response = field.client.get(f"{TASKS}/{task['id']}", headers=field.headers("dispatcher"))
    assert response.headers["ETag"] == '"1"' and response.json() == task
    (audit,) = rows(owner_engine, "SELECT actor_name, action FROM audit_log WHERE entity_type = 'field_task'")
    assert audit == {"actor_name": "test-dispatcher", "action": "task.created"}
    (event,) = rows(owner_engine, "SELECT event_type, payload FROM outbox_events WHERE entity_type = 'field_task'")
    assert event["event_type"] == "task.created" and event["payload"]["location"] == point()


def test_a_task_at_an_asset_takes_the_asset_geometry(field: Field) -> None:
    transformer = created(field.client, field.headers("dispatcher"), "transformers",
                          geometry={"type": "Point", "coordinates": [117.23, 31.82]})

    task = field.create(task_type="transformer_inspection", location=None, asset_type="transformer",
                        asset_id=transformer["id"])

    assert task["asset"] == {"type": "transformer", "id": transformer["id"]}
    assert task["location"] == {"type": "Point", "coordinates": [117.23, 31.82]}


def test_a_location_in_another_crs_is_stored_in_wgs84(field: Field) -> None:
    # CGCS2000 (EPSG:4490) and WGS84 agree to well under a metre here.
    response = field.client.post(TASKS, params={"crs": "EPSG:4490"}, json=task_body(),
                                 headers=field.headers("dispatcher"))

    assert response.status_code == 201, response.text
    lon, lat = response.json()["location"]["coordinates"]
    assert abs(lon - 117.2272) < 1e-6 and abs(lat - 31.8206) < 1e-6


def test_bad_tasks_are_refused_naming_the_field_and_nothing_is_stored(field: Field, owner_engine: Engine) -> None:
    cases = {
        "due_until": task_body(due_until=(NOW - timedelta(days=1)).isoformat()),
        "location": task_body(location=None),
        "asset_id": task_body(location=None, asset_type="transformer", asset_id=999),
        "asset_type": task_body(location=None, asset_type="volcano", asset_id=1),
        "checklist_code": task_body(checklist_code="no_such_checklist"),
        "assignee_id": task_body(assignee_id=999999),
    }
    for field_name, body in cases.items():
        response = field.client.post(TASKS, json=body, headers=field.headers("dispatcher"))
        assert field_name in [e["field"] for e in problem(response, 422)["errors"]], (field_name, response.text)
    assert rows(owner_engine, "SELECT id FROM field_tasks") == []
    assert rows(owner_engine, "SELECT id FROM audit_log WHERE entity_type = 'field_task'") == []


def test_inspectors_auditors_and_approvers_cannot_plan_tasks(field: Field) -> None:
    for role in ("inspector", "auditor", "approver"):
        problem(field.client.post(TASKS, json=task_body(), headers=field.headers(role)), 403)


def test_an_inspector_sees_only_the_tasks_assigned_to_them(field: Field) -> None:
    mine = field.act(field.create(title="mine"), "assign", "dispatcher", assignee_id=field.crew["inspector"].id)
    theirs = field.act(field.create(title="theirs"), "assign", "dispatcher",
                       assignee_id=field.crew["inspector2"].id)
    field.create(title="nobody's")

    listed = field.client.get(TASKS, headers=field.headers("inspector")).json()["items"]
    assert [t["title"] for t in listed] == ["mine"]
    problem(field.client.get(f"{TASKS}/{theirs['id']}", headers=field.headers("inspector")), 404)
    assert field.get(mine["id"], by="inspector")["title"] == "mine"
    everything = field.client.get(TASKS, headers=field.headers("supervisor")).json()["items"]
    assert [t["title"] for t in everything] == ["mine", "theirs", "nobody's"]


def test_the_task_list_filters_by_state_type_assignee_due_date_and_bbox_and_pages(field: Field) -> None:
    patrol = field.create(title="patrol")
    near_due = field.create(title="due tomorrow", due_until=(NOW + timedelta(days=1)).isoformat())
    far = field.create(title="far away", location=point((118.5, 32.5)), task_type="fault_visit")
    field.act(patrol, "assign", "dispatcher", assignee_id=field.crew["inspector"].id)

    def titles(**params: Any) -> list[str]:
        response = field.client.get(TASKS, params=params, headers=field.headers("dispatcher"))
        assert response.status_code == 200, response.text
        return [t["title"] for t in response.json()["items"]]

    assert titles(state="assigned") == ["patrol"]
    assert titles(task_type="fault_visit") == ["far away"]
    assert titles(assignee_id=field.crew["inspector"].id) == ["patrol"]
    assert titles(due_before=(NOW + timedelta(days=2)).isoformat()) == ["due tomorrow"]
    assert titles(due_after=(NOW + timedelta(days=2)).isoformat()) == ["patrol", "far away"]
    assert titles(bbox="118,32,119,33") == ["far away"]
    first = field.client.get(TASKS, params={"limit": 2}, headers=field.headers("dispatcher")).json()
    assert [t["id"] for t in first["items"]] == [patrol["id"], near_due["id"]]
    rest = field.client.get(TASKS, params={"limit": 2, "cursor": first["next_cursor"]},
                            headers=field.headers("dispatcher")).json()
    assert [t["id"] for t in rest["items"]] == [far["id"]] and rest["next_cursor"] is None


def test_changing_a_task_needs_if_match_and_a_stale_version_is_412(field: Field, client: TestClient) -> None:
    task = field.create()
    url = f"{TASKS}/{task['id']}"

    problem(client.patch(url, json={"priority": 1}, headers=field.headers("dispatcher")), 428)
    changed = client.patch(url, json={"priority": 1}, headers=field.headers("dispatcher", **if_match(task)))
    assert changed.status_code == 200 and changed.headers["ETag"] == '"2"'
    assert changed.json()["priority"] == 1
    stale = problem(client.patch(url, json={"notes": "x"}, headers=field.headers("dispatcher", **if_match(task))), 412)
    assert stale["current_version"] == 2
    assert field.get(task["id"])["notes"] == ""


def test_a_dispatcher_edits_the_plan_and_the_assignee_only_their_notes(field: Field, client: TestClient) -> None:
    task = field.act(field.create(), "assign", "dispatcher", assignee_id=field.crew["inspector"].id)
    url = f"{TASKS}/{task['id']}"

    refused = client.patch(url, json={"priority": 1}, headers=field.headers("inspector", **if_match(task)))
    assert "priority" in problem(refused, 403)["detail"]
    noted = client.patch(url, json={"notes": "gate locked, key at the village office"},
                         headers=field.headers("inspector", **if_match(task)))
    assert noted.status_code == 200, noted.text
    planned = client.patch(url, json={"title": "Patrol feeder 12 (north)", "priority": 1,
                                      "due_until": (NOW + timedelta(days=3)).isoformat()},
                           headers=field.headers("dispatcher", **if_match(noted.json())))
    assert planned.status_code == 200, planned.text
    after = planned.json()
    assert (after["title"], after["priority"], after["notes"]) == ("Patrol feeder 12 (north)", 1,
                                                                   "gate locked, key at the village office")
    window = client.patch(url, json={"due_until": (NOW - timedelta(days=1)).isoformat()},
                          headers=field.headers("dispatcher", **if_match(after)))
    assert "due_until" in [e["field"] for e in problem(window, 422)["errors"]]
