"""Checklists are versioned: supervisors publish new versions, never edit one; a task keeps the
version it was created with and its answers are checked against it, item by item and type by type.
Submitting is the inspector's self-check: every required item answered."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from inspections.checklists import validate_items
from tests.inspections.conftest import Field, problem

CHECKLISTS = "/api/v1/checklists"
SEEDED = Path(__file__).resolve().parents[2] / "inspections" / "data" / "checklists.json"
EVERY_TYPE = [
    {"key": "door_locked", "label": "Door locked", "answer_type": "yes_no", "required": True},
    {"key": "oil_temp", "label": "Top-oil temperature", "answer_type": "number", "min": -40, "max": 120,
     "unit": "°C", "required": True},
    {"key": "enclosure", "label": "Enclosure", "answer_type": "choice", "choices": ["ok", "damaged"],
     "required": False},
    {"key": "remarks", "label": "Remarks", "answer_type": "text", "required": False},
    {"key": "nameplate", "label": "Nameplate photo", "answer_type": "photo", "required": True},
]


def publish(client: TestClient, field: Field, code: str = "every_type", items: list[dict[str, Any]] | None = None,
            ) -> dict[str, Any]:
    response = client.post(CHECKLISTS, json={"code": code, "name": "Every answer type", "task_type": "fault_visit",
                                             "items": items or EVERY_TYPE}, headers=field.headers("supervisor"))
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_the_shipped_checklists_are_valid_and_listed_at_version_one(field: Field) -> None:
    shipped = json.loads(SEEDED.read_text(encoding="utf-8"))["templates"]
    # and those the default inspection plans need beyond them (h/plans: cable routes, substations, switchgear)
    shipped += json.loads(SEEDED.with_name("plan_checklists.json").read_text(encoding="utf-8"))["checklists"]
    for template in shipped:  # validate_items raises on the first item that breaks a rule
        assert [item["key"] for item in validate_items(template["items"])] == [i["key"] for i in template["items"]]

    listed = field.client.get(CHECKLISTS, headers=field.headers("inspector")).json()

    assert {(c["code"], c["version"]) for c in listed} == {(t["code"], 1) for t in shipped}
    assert {"line_patrol", "transformer_inspection", "meter_reading", "site_survey", "reinspection",
            "cable_route_inspection", "substation_inspection", "switch_inspection"} == {c["code"] for c in listed}


def test_publishing_makes_a_new_version_and_the_old_one_stays_as_it_was(field: Field, client: TestClient) -> None:
    first = publish(client, field)
    second = client.post(f"{CHECKLISTS}/every_type/versions", json={"items": EVERY_TYPE[:2]},
                         headers=field.headers("supervisor"))

    assert second.status_code == 201 and second.json()["version"] == 2
    old = client.get(f"{CHECKLISTS}/every_type/versions/1", headers=field.headers("inspector")).json()
    assert old["items"] == first["items"] and len(old["items"]) == 5
    latest = {c["code"]: c for c in client.get(CHECKLISTS, headers=field.headers("inspector")).json()}
    assert latest["every_type"]["version"] == 2
    problem(client.get(f"{CHECKLISTS}/every_type/versions/3", headers=field.headers("inspector")), 404)
    problem(client.post(CHECKLISTS, json={"code": "every_type", "name": "again", "task_type": "fault_visit",
                                          "items": EVERY_TYPE}, headers=field.headers("supervisor")), 409)


@pytest.mark.parametrize(("bad_item", "field_name"), [
    ({"key": "x", "label": "X", "answer_type": "choice", "choices": ["only"]}, "items[0].choices"),
    ({"key": "x", "label": "X", "answer_type": "number", "min": 5, "max": 1}, "items[0].min"),
    ({"key": "x", "label": "X", "answer_type": "colour"}, "items[0].answer_type"),
    ({"key": "X Y", "label": "X", "answer_type": "text"}, "items[0].key"),
    ({"key": "x", "label": "", "answer_type": "text"}, "items[0].label"),
    ({"key": "x", "label": "X", "answer_type": "yes_no", "unit": "m"}, "items[0].answer_type"),
])
def test_a_malformed_checklist_item_is_refused_naming_it(field: Field, bad_item: dict[str, Any],
                                                         field_name: str) -> None:
    response = field.client.post(CHECKLISTS, json={"code": "bad", "name": "Bad", "task_type": "fault_visit",
                                                   "items": [bad_item]}, headers=field.headers("supervisor"))

    assert [e["field"] for e in problem(response, 422)["errors"]] == [field_name]
    problem(field.client.get(f"{CHECKLISTS}/bad/versions/1", headers=field.headers("supervisor")), 404)


def test_a_checklist_key_is_used_once(field: Field) -> None:
    twice = [EVERY_TYPE[0], {**EVERY_TYPE[1], "key": "door_locked"}]
    response = field.client.post(CHECKLISTS, json={"code": "twice", "name": "Twice", "task_type": "fault_visit",
                                                   "items": twice}, headers=field.headers("supervisor"))
    assert [e["field"] for e in problem(response, 422)["errors"]] == ["items[1].key"]


@pytest.mark.parametrize(("key", "good", "bad"), [
    ("door_locked", True, ["yes", 1, "true"]),
    ("oil_temp", 55.5, [121, -41, "55", True]),
    ("enclosure", "damaged", ["broken", 1]),
    ("remarks", "rust on the tank", [12, "x" * 4001]),
    ("nameplate", {"photos": ["7d3c1c1e-2f0a-4a55-9a57-1d3e0f4d6a10", 42]},
     [{"photos": []}, ["a.jpg"], {"photos": [True]}, {"photos": ["a"], "note": "x"}, "a.jpg"]),
])
def test_each_answer_is_checked_against_its_item_type(field: Field, client: TestClient, key: str, good: Any,
                                                      bad: list[Any]) -> None:
    publish(client, field)
    task = field.started(checklist_code="every_type", task_type="fault_visit")

    for value in bad:
        refused = problem(field.try_answer(task, **{key: value}), 422)
        assert [e["field"] for e in refused["errors"]] == [f"answers.{key}"], value
    answered = field.answer(task, **{key: good})

    assert answered["answers"][key]["value"] == good
    assert answered["answers"][key]["by"] == "test-inspector" and answered["version"] == task["version"] + 1


def test_an_answer_to_an_item_the_checklist_does_not_have_is_refused(field: Field) -> None:
    task = field.started(checklist_code="line_patrol")
    refused = problem(field.try_answer(task, oil_temp=50), 422)
    assert [e["field"] for e in refused["errors"]] == ["answers.oil_temp"]


def test_a_task_keeps_the_checklist_version_it_was_created_with(field: Field, client: TestClient) -> None:
    publish(client, field)
    task = field.started(checklist_code="every_type", task_type="fault_visit")
    client.post(f"{CHECKLISTS}/every_type/versions", json={"items": [
        *EVERY_TYPE, {"key": "earth_ohms", "label": "Earth resistance", "answer_type": "number", "required": True}]},
        headers=field.headers("supervisor"))

    assert field.get(task["id"])["checklist"]["version"] == 1
    problem(field.try_answer(task, earth_ohms=4.0), 422)
    assert field.create(checklist_code="every_type")["checklist"]["version"] == 2


def test_submitting_without_the_required_answers_is_refused_naming_them(field: Field, client: TestClient) -> None:
    publish(client, field)
    task = field.started(checklist_code="every_type", task_type="fault_visit")
    task = field.answer(task, door_locked=True, remarks="ok")

    refused = problem(field.try_act(task, "submit", "inspector"), 422)

    assert [e["field"] for e in refused["errors"]] == ["answers.oil_temp", "answers.nameplate"]
    assert "oil_temp" in refused["detail"] and "nameplate" in refused["detail"]
    task = field.answer(task, oil_temp=61, nameplate={"photos": ["p1"]})
    assert field.act(task, "submit", "inspector")["state"] == "submitted"


def test_clearing_a_required_answer_makes_it_missing_again(field: Field, client: TestClient) -> None:
    publish(client, field)
    task = field.started(checklist_code="every_type", task_type="fault_visit")
    task = field.answer(task, door_locked=True, oil_temp=20, nameplate={"photos": ["p1"]})
    task = field.answer(task, door_locked=None)

    assert [e["field"] for e in problem(field.try_act(task, "submit", "inspector"), 422)["errors"]] == [
        "answers.door_locked"]


def test_answers_are_recorded_only_while_the_work_is_in_the_inspectors_hands(field: Field) -> None:
    task = field.create(checklist_code="line_patrol")
    task = field.act(task, "assign", "dispatcher", assignee_id=field.crew["inspector"].id)

    problem(field.try_answer(task, conductors_ok=True), 409)
    task = field.act(task, "accept", "inspector")
    assert field.answer(task, conductors_ok=True)["answers"]["conductors_ok"]["value"] is True
