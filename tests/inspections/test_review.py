"""A reviewer checks, never corrects (DOMAIN.md §1, separation of duties): a supervisor cannot edit
an inspector's answers, findings or notes, only approve or send the task back with a reason; the
inspector then corrects their own record and submits again."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.inspections.conftest import TASKS, Field, if_match, problem


def submitted(field: Field) -> dict[str, Any]:
    task = field.started(checklist_code="line_patrol")
    task = field.answer(task, conductors_ok=True, insulators_ok=True, poles_ok=False, clearance_ok=True,
                        protection_zone="none")
    return field.act(task, "submit", "inspector")


@pytest.mark.parametrize("reviewer", ["supervisor", "dispatcher", "admin"])
def test_a_reviewer_cannot_change_the_answers_findings_or_notes_of_a_submitted_task(
        field: Field, client: TestClient, reviewer: str) -> None:
    task = submitted(field)

    problem(field.try_answer(task, by=reviewer, poles_ok=True), 403)
    problem(field.try_report(task, by=reviewer, severity="critical", category="pole_tilt"), 403)
    problem(client.patch(f"{TASKS}/{task['id']}", json={"notes": "looks fine to me"},
                         headers=field.headers(reviewer, **if_match(task))), 403)
    after = field.get(task["id"])
    assert after["answers"]["poles_ok"]["value"] is False and after["findings"] == []
    assert after["version"] == task["version"] and after["notes"] == ""


def test_a_supervisor_cannot_answer_for_the_inspector_even_while_the_work_is_open(field: Field) -> None:
    task = field.started(checklist_code="line_patrol")

    problem(field.try_answer(task, by="supervisor", conductors_ok=True), 403)
    problem(field.try_report(task, by="supervisor"), 403)


def test_a_task_sent_back_is_corrected_by_its_inspector_and_submitted_again(field: Field) -> None:
    task = submitted(field)

    task = field.act(task, "send_back", "supervisor", reason="poles_ok is no: report the defect as a finding")
    problem(field.try_answer(task, by="supervisor", poles_ok=True), 403)
    task = field.answer(task, poles_ok=True)
    report = field.try_report(task, severity="major", category="pole_tilt")
    assert report.status_code == 201, report.text
    task = field.act(field.get(task["id"], by="inspector"), "start", "inspector")
    task = field.act(task, "submit", "inspector")
    task = field.act(task, "approve", "supervisor2")

    assert task["state"] == "approved" and task["answers"]["poles_ok"]["value"] is True
    assert task["answers"]["poles_ok"]["by"] == "test-inspector"
    assert [f["category"] for f in task["findings"]] == ["pole_tilt"]
