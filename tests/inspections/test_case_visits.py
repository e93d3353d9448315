"""A case's site survey and re-inspection are field tasks: assigning one on the case gives the
inspector a task at the site, due by the case's deadline, with the survey checklist; submitting the
task records the visit on the case through the case workflow (the surveyor, the findings, separation
of duties); re-assigning on the case re-assigns the task; and the case API's own `record_survey`
still works, submitting the task with what the case recorded."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import uuid4

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.cases.conftest import NEAR, Desk, assert_problem, connection_body, desk, network, people
from tests.inspections.conftest import TASKS, Field

# The approval console of the case tests (a registered line near the sites, the case workers) and
# the field crew of the task tests, side by side: pytest finds these fixtures by their names here.
CASE_FIXTURES = (desk, network, people)

PHOTO = {"photos": [str(uuid4())]}


def visit_task(field: Field, case: dict[str, Any], by: str = "inspector") -> dict[str, Any]:
    """The one task of `case` the person `by` sees in their task list."""
    response = field.client.get(TASKS, headers=field.headers(by), params={"limit": 100})
    assert response.status_code == 200, response.text
    [task] = [t for t in response.json()["items"] if t["case_id"] == case["id"]]
    return dict(task)


def done(field: Field, task: dict[str, Any], by: str = "inspector", **answers: Any) -> dict[str, Any]:
    """Accept, start, answer and submit the task as its inspector would from the device."""
    task = field.act(task, "accept", by)
    task = field.act(task, "start", by)
    task = field.answer(task, by, **answers)
    return field.act(task, "submit", by)


def test_a_case_survey_is_done_as_a_field_task_from_assignment_to_the_approvers_decision(
        desk: Desk, field: Field, owner_engine: Engine) -> None:
    case = desk.register(connection_body(NEAR))
    case = desk.act(case, "assign_survey", by="dispatcher", assignee_id=desk.people["inspector"].id)

    task = visit_task(field, case)
    assert (task["task_type"], task["state"], task["assignee"]["id"]) == ("site_survey", "assigned",
                                                                          desk.people["inspector"].id)
    assert task["checklist"]["code"] == "site_survey"
    assert task["location"] == {"type": "Point", "coordinates": list(NEAR)}
    assert datetime.fromisoformat(task["due_until"]) == datetime.fromisoformat(case["deadline_at"])
    assert task["title"].startswith(f"Site survey {case['number']}")

    task = field.act(task, "accept", "inspector")
    task = field.act(task, "start", "inspector")
    task = field.answer(task, "inspector", findings="房屋位于线路保护区内，无隐患", hazard_found=False, site_photo=PHOTO)
    field.try_report(task, severity="minor", category="signage_missing",
                     recommended_action="补设保护区警示牌")
    task = field.act(field.get(task["id"]), "submit", "inspector")

    surveyed = desk.get(case)
    assert surveyed["state"] == "surveyed"
    assert surveyed["survey"]["findings"] == "房屋位于线路保护区内，无隐患"
    assert surveyed["survey"]["hazard_found"] is False and surveyed["survey"]["by"] == "test-inspector"
    assert surveyed["visits"][-1]["measures"] == ["补设保护区警示牌"]
    assert task["state"] == "submitted"
    # The surveyor cannot decide; an approval officer does, and the supervisor reviews the task.
    assert_problem(desk.act_response(surveyed, "approve_with_clauses", by="inspector", measures=["保持安全距离"]), 403)
    decided = desk.act(surveyed, "approve_with_clauses", by="approver", measures=["保持安全距离"])
    assert decided["state"] == "approved_with_clauses"
    assert field.act(field.get(task["id"]), "approve", "supervisor")["state"] == "approved"
    with owner_engine.connect() as conn:
        recorded = conn.execute(text("SELECT actor_name FROM audit_log WHERE action = 'case.record_survey' "
                                     "AND entity_id = :id"), {"id": str(case["id"])}).scalars().all()
    assert recorded == ["test-inspector"]


def test_a_reinspection_is_done_as_a_field_task_and_its_answer_says_whether_the_rectification_passed(
        desk: Desk, field: Field) -> None:
    case = desk.surveyed(desk.register(connection_body(NEAR)), hazard=True)
    case = desk.act(case, "issue_hazard_notice", by="approver", measures=["拆除违章搭建"], rectification_days=10)
    case = desk.act(case, "report_rectification", by="dispatcher", note="客户报告已整改")
    case = desk.act(case, "assign_reinspection", by="dispatcher", assignee_id=desk.people["inspector2"].id)

    task = visit_task(field, case, by="inspector2")
    assert (task["task_type"], task["checklist"]["code"]) == ("reinspection", "reinspection")
    done(field, task, "inspector2", findings="已拆除违章搭建", rectified=True, site_photo=PHOTO)

    reinspected = desk.get(case)
    assert reinspected["state"] == "reinspected"
    assert reinspected["survey"]["reinspection"] == {**reinspected["survey"]["reinspection"],
                                                     "findings": "已拆除违章搭建", "passed": True,
                                                     "by": "test-inspector2"}
    assert desk.act(reinspected, "approve_with_clauses", by="approver", measures=["保持安全距离"])["state"] == \
        "approved_with_clauses"


def test_reassigning_a_pending_survey_reassigns_its_task_and_only_the_new_inspector_can_do_it(
        desk: Desk, field: Field, client: TestClient) -> None:
    case = desk.act(desk.register(connection_body(NEAR)), "assign_survey", by="approver",
                    assignee_id=desk.people["inspector"].id)
    first = visit_task(field, case)
    field.act(first, "accept", "inspector")

    case = desk.act(case, "assign_survey", by="dispatcher", assignee_id=desk.people["inspector2"].id)

    task = visit_task(field, case, by="inspector2")
    assert task["id"] == first["id"] and task["state"] == "assigned"
    assert task["assignee"]["id"] == desk.people["inspector2"].id
    assert client.get(f"{TASKS}/{task['id']}", headers=field.headers("inspector")).status_code == 404
    done(field, task, "inspector2", findings="无隐患", hazard_found=False, site_photo=PHOTO)
    assert desk.get(case)["survey"]["by"] == "test-inspector2"


def test_a_survey_task_already_started_cannot_be_given_to_someone_else_and_the_case_stays_as_it_was(
        desk: Desk, field: Field) -> None:
    case = desk.act(desk.register(connection_body(NEAR)), "assign_survey", by="dispatcher",
                    assignee_id=desk.people["inspector"].id)
    task = field.act(field.act(visit_task(field, case), "accept", "inspector"), "start", "inspector")

    refused = assert_problem(desk.act_response(case, "assign_survey", by="dispatcher",
                                               assignee_id=desk.people["inspector2"].id), 409)

    assert "in_progress" in refused["detail"]
    assert desk.get(case)["assignee"]["id"] == desk.people["inspector"].id
    assert field.get(task["id"])["assignee"]["id"] == desk.people["inspector"].id


def test_the_case_apis_record_survey_still_works_and_submits_the_task_with_what_the_case_recorded(
        desk: Desk, field: Field) -> None:
    case = desk.act(desk.register(connection_body(NEAR)), "assign_survey", by="dispatcher",
                    assignee_id=desk.people["inspector"].id)

    case = desk.act(case, "record_survey", by="inspector", findings="现场有违章搭建", hazard_found=True)

    assert case["state"] == "surveyed" and case["survey"]["by"] == "test-inspector"
    task = field.get(visit_task(field, case)["id"], by="supervisor")
    assert task["state"] == "submitted"
    assert {k: v["value"] for k, v in task["answers"].items()} == {"findings": "现场有违章搭建", "hazard_found": True}
    assert "approve" in task["allowed_actions"]


def test_a_survey_task_cannot_be_submitted_without_its_answers_and_the_case_is_not_surveyed(
        desk: Desk, field: Field) -> None:
    case = desk.act(desk.register(connection_body(NEAR)), "assign_survey", by="dispatcher",
                    assignee_id=desk.people["inspector"].id)
    task = field.act(field.act(visit_task(field, case), "accept", "inspector"), "start", "inspector")

    response = field.try_act(task, "submit", "inspector")

    assert response.status_code == 422, response.text
    assert desk.get(case)["state"] == "survey_assigned"
    assert field.get(task["id"])["state"] == "in_progress"


def test_a_visit_assigned_twice_still_has_exactly_one_task(desk: Desk, field: Field, owner_engine: Engine) -> None:
    case = desk.act(desk.register(connection_body(NEAR)), "assign_survey", by="dispatcher",
                    assignee_id=desk.people["inspector"].id)
    desk.act(case, "assign_survey", by="dispatcher", assignee_id=desk.people["inspector2"].id)

    with owner_engine.connect() as conn:
        rows = conn.execute(text("SELECT v.id, count(t.id) FROM site_visits v LEFT JOIN field_tasks t "
                                 "ON t.site_visit_id = v.id GROUP BY v.id")).all()
    assert [count for _, count in rows] == [1]
    assert visit_task(field, case, by="inspector2")["assignee"]["id"] == desk.people["inspector2"].id
