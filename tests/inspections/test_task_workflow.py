"""The task state machine as people meet it: each move from each state, who may make it and who is
refused, and the moves no state allows. The tables here are the specification, written out
independently of `inspections.workflow`."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, text

from tests.inspections.conftest import Field, problem

# state -> the actions that state allows (issue 9 §1: planned → assigned → accepted → in progress →
# submitted → approved / sent back → closed; cancelling before work starts).
LEGAL = {
    "planned": {"assign", "cancel"},
    "assigned": {"assign", "accept", "cancel"},
    "accepted": {"assign", "start", "cancel"},
    "in_progress": {"submit"},
    "submitted": {"approve", "send_back"},
    "sent_back": {"start"},
    "approved": {"close"},
    "closed": set(),
    "cancelled": set(),
}
# action -> (a state it is taken from, the state it leads to, who may take it on a task assigned to
# "inspector"). The assignee's own moves are theirs alone; review is the supervisors'.
MOVES = {
    "assign": ("planned", "assigned", {"dispatcher", "supervisor", "supervisor2", "admin"}),
    "accept": ("assigned", "accepted", {"inspector"}),
    "start": ("accepted", "in_progress", {"inspector"}),
    "submit": ("in_progress", "submitted", {"inspector"}),
    "approve": ("submitted", "approved", {"supervisor", "supervisor2", "admin"}),
    "send_back": ("submitted", "sent_back", {"supervisor", "supervisor2", "admin"}),
    "close": ("approved", "closed", {"supervisor", "supervisor2", "admin"}),
    "cancel": ("assigned", "cancelled", {"dispatcher", "supervisor", "supervisor2", "admin"}),
}
PEOPLE = ("dispatcher", "supervisor", "supervisor2", "inspector", "inspector2", "auditor", "approver", "admin")
# How each state is reached from planned (each step: action, by whom).
PATH = {
    "planned": [],
    "assigned": [("assign", "dispatcher")],
    "accepted": [("assign", "dispatcher"), ("accept", "inspector")],
    "in_progress": [("assign", "dispatcher"), ("accept", "inspector"), ("start", "inspector")],
    "submitted": [("assign", "dispatcher"), ("accept", "inspector"), ("start", "inspector"), ("submit", "inspector")],
}
PATH["sent_back"] = [*PATH["submitted"], ("send_back", "supervisor")]
PATH["approved"] = [*PATH["submitted"], ("approve", "supervisor")]
PATH["closed"] = [*PATH["approved"], ("close", "supervisor")]
PATH["cancelled"] = [("cancel", "dispatcher")]


def body_for(field: Field, action: str) -> dict[str, Any]:
    if action == "assign":
        return {"assignee_id": field.crew["inspector"].id}
    if action in ("send_back", "cancel"):
        return {"reason": "photos of pole 17 missing"}
    return {}


def task_in(field: Field, state: str) -> dict[str, Any]:
    task = field.create()
    for action, by in PATH[state]:
        task = field.act(task, action, by, **body_for(field, action))
    assert task["state"] == state
    return task


@pytest.mark.parametrize("action", MOVES)
def test_each_move_is_made_by_the_people_allowed_and_refused_to_everyone_else(field: Field, action: str) -> None:
    source, target, allowed = MOVES[action]
    for person in PEOPLE:
        task = task_in(field, source)
        response = field.try_act(task, action, person, **body_for(field, action))
        if person in allowed:
            assert response.status_code == 200, (person, response.text)
            assert response.json()["state"] == target and response.json()["version"] == task["version"] + 1
        else:
            # An inspector who is not the assignee does not even see the task.
            stranger = field.crew[person].role == "inspector" and (task["assignee"] or {}).get("id") != field.crew[person].id
            expected = 404 if stranger else 403
            assert response.status_code == expected, (person, response.text)
            assert field.get(task["id"])["state"] == source


def test_no_state_allows_a_move_outside_its_own(field: Field) -> None:
    for state, legal in LEGAL.items():
        task = task_in(field, state)
        for action in set(MOVES) - legal:
            refused = problem(field.try_act(task, action, "admin", **body_for(field, action)), 409)
            assert state in refused["detail"], refused
            assert set(refused["allowed_actions"]) <= legal
        assert field.get(task["id"])["state"] == state


def test_a_task_goes_from_plan_to_closure_and_every_step_is_audited_and_announced(
        field: Field, owner_engine: Engine) -> None:
    task = task_in(field, "closed")

    assert task["allowed_actions"] == []
    assert task["assigned_at"] and task["accepted_at"] and task["started_at"] and task["submitted_at"]
    assert task["reviewed_at"] and task["closed_at"]
    with owner_engine.connect() as conn:
        events = list(conn.execute(text("SELECT event_type FROM outbox_events WHERE entity_type = 'field_task' "
                                        "ORDER BY id")).scalars())
        audits = list(conn.execute(text("SELECT actor_name || ' ' || action FROM audit_log "
                                        "WHERE entity_type = 'field_task' ORDER BY id")).scalars())
    assert events == ["task.created", "task.assigned", "task.accept", "task.start", "task.submit", "task.approve",
                      "task.close"]
    assert audits == ["test-dispatcher task.created", "test-dispatcher task.assigned", "test-inspector task.accept",
                      "test-inspector task.start", "test-inspector task.submit", "test-supervisor task.approve",
                      "test-supervisor task.close"]


def test_the_actions_offered_are_the_ones_the_caller_may_take(field: Field) -> None:
    task = task_in(field, "assigned")

    assert field.get(task["id"], by="dispatcher")["allowed_actions"] == ["assign", "cancel"]
    assert field.get(task["id"], by="inspector")["allowed_actions"] == ["accept"]
    assert field.get(task["id"], by="auditor")["allowed_actions"] == []


def test_sending_back_and_cancelling_need_a_reason_which_the_task_then_shows(field: Field) -> None:
    submitted = task_in(field, "submitted")

    problem(field.try_act(submitted, "send_back", "supervisor"), 422)
    sent_back = field.act(submitted, "send_back", "supervisor", reason="meter photo unreadable")
    assert sent_back["review_note"] == "meter photo unreadable"
    assert field.get(sent_back["id"], by="inspector")["allowed_actions"] == ["start"]
    problem(field.try_act(task_in(field, "planned"), "cancel", "dispatcher"), 422)


def test_whoever_submitted_a_task_cannot_review_it(field: Field) -> None:
    task = field.act(field.create(), "assign", "dispatcher", assignee_id=field.crew["admin"].id)
    for action in ("accept", "start", "submit"):
        task = field.act(task, action, "admin")

    refused = problem(field.try_act(task, "approve", "admin"), 403)
    assert "separation of duties" in refused["detail"]
    assert field.act(task, "approve", "supervisor")["state"] == "approved"


def test_reassigning_a_task_before_it_starts_hands_it_to_the_new_inspector(field: Field) -> None:
    task = task_in(field, "accepted")

    task = field.act(task, "assign", "dispatcher", assignee_id=field.crew["inspector2"].id)

    assert task["state"] == "assigned" and task["assignee"]["id"] == field.crew["inspector2"].id
    assert task["accepted_at"] is None
    problem(field.client.get(f"/api/v1/tasks/{task['id']}", headers=field.headers("inspector")), 404)
    assert field.act(task, "accept", "inspector2")["state"] == "accepted"


def test_only_field_workers_can_be_assigned(field: Field) -> None:
    refused = field.try_act(field.create(), "assign", "dispatcher", assignee_id=field.crew["approver"].id)
    assert [e["field"] for e in problem(refused, 422)["errors"]] == ["assignee_id"]


def test_an_action_on_a_stale_version_is_412_and_changes_nothing(field: Field) -> None:
    task = field.create()
    field.act(task, "assign", "dispatcher", assignee_id=field.crew["inspector"].id)

    stale = problem(field.try_act(task, "cancel", "dispatcher", reason="duplicate"), 412)

    assert stale["current_version"] == 2 and field.get(task["id"])["state"] == "assigned"
