"""Site visits and decisions are records (issue 8 §4): who was sent, who went, when and what they
found are rows a field task can hang off, while the case keeps showing `survey` and `decision`
exactly as clients and the audit log have always seen them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from tests.cases.conftest import FAR, NEAR, Desk, connection_body

SURVEY_KEYS = {"findings", "hazard_found", "by", "at"}
REINSPECTION_KEYS = {"findings", "passed", "by", "at"}
DECISION_KEYS = {"action", "by", "at", "measures", "note"}


def visit_rows(engine: Engine, case_id: int) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(text(
            "SELECT * FROM site_visits WHERE case_id = :id ORDER BY id"), {"id": case_id}).mappings()]


def decision_rows(engine: Engine, case_id: int) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(text(
            "SELECT * FROM case_decisions WHERE case_id = :id ORDER BY id"), {"id": case_id}).mappings()]


def test_survey_and_reinspection_are_typed_rows_and_the_case_shows_them_as_before(
        desk: Desk, owner_engine: Engine) -> None:
    inspector, approver = desk.people["inspector"], desk.people["approver"]
    case = desk.act(desk.register(connection_body(NEAR)), "assign_survey", by="approver", assignee_id=inspector.id)
    case = desk.act(case, "record_survey", by="inspector", findings="现场有违章搭建", hazard_found=True,
                    measures=["立即停止施工"])

    (survey,) = visit_rows(owner_engine, case["id"])
    assert survey["kind"] == "survey" and survey["findings"] == "现场有违章搭建" and survey["hazard_found"] is True
    assert survey["assigned_to_id"] == survey["visited_by_id"] == inspector.id
    assert survey["assigned_by_id"] == approver.id and survey["visited_by_name"] == inspector.username
    assert survey["assigned_at"] <= survey["visited_at"] and survey["measures"] == ["立即停止施工"]
    assert survey["passed"] is None
    # The case's JSON is what it was: no re-inspection key until there is one, the time as before.
    assert set(case["survey"]) == SURVEY_KEYS
    assert case["survey"] == {"findings": "现场有违章搭建", "hazard_found": True, "by": inspector.username,
                              "at": survey["visited_at"].astimezone(UTC).isoformat()}
    assert case["survey"]["at"].endswith("+00:00")

    case = desk.act(case, "issue_hazard_notice", by="approver", measures=["拆除彩钢棚"])
    (notice,) = decision_rows(owner_engine, case["id"])
    assert set(case["decision"]) == DECISION_KEYS | {"document"}
    assert case["decision"] == {"action": "issue_hazard_notice", "by": approver.username,
                                "at": notice["decided_at"].astimezone(UTC).isoformat(), "measures": ["拆除彩钢棚"],
                                "note": None, "document": {"id": case["documents"][0]["id"],
                                                           "serial_number": case["documents"][0]["serial_number"]}}
    assert notice["decided_by_id"] == approver.id and notice["document_id"] == case["documents"][0]["id"]

    case = desk.reinspected(case, passed=True)
    survey, reinspection = visit_rows(owner_engine, case["id"])
    assert reinspection["kind"] == "reinspection" and reinspection["passed"] is True
    assert reinspection["hazard_found"] is None and reinspection["findings"] == "已拆除违章搭建"
    assert reinspection["visited_by_id"] == inspector.id and reinspection["assigned_by_id"] == approver.id
    assert set(case["survey"]) == SURVEY_KEYS | {"reinspection"}
    assert case["survey"]["reinspection"] == {"findings": "已拆除违章搭建", "passed": True, "by": inspector.username,
                                              "at": reinspection["visited_at"].astimezone(UTC).isoformat()}
    assert [(v["id"], v["kind"], v["visited_by"], v["findings"]) for v in case["visits"]] == [
        (survey["id"], "survey", inspector.username, "现场有违章搭建"),
        (reinspection["id"], "reinspection", inspector.username, "已拆除违章搭建")]

    case = desk.act(case, "approve_with_clauses", by="approver2", measures=["不得在保护区内搭建"], note="整改合格")
    assert [d["action"] for d in decision_rows(owner_engine, case["id"])] == ["issue_hazard_notice",
                                                                             "approve_with_clauses"]
    assert case["decision"]["action"] == "approve_with_clauses" and case["decision"]["note"] == "整改合格"
    assert case == {**desk.get(case), "remaining": case["remaining"]}
    # The audit log and the case's history keep the same content as when these were JSON.
    last = desk.audit(case)[-1]
    assert last["after"]["survey"] == case["survey"] and last["after"]["decision"] == case["decision"]
    assert last["before"]["decision"]["action"] == "issue_hazard_notice"
    assert case["history"][-1]["details"] == {"decision": case["decision"]}


def test_a_refusal_shows_whom_it_is_reported_to_and_a_plain_approval_no_document(
        desk: Desk, owner_engine: Engine) -> None:
    refused = desk.act(desk.surveyed(desk.register(connection_body(NEAR)), hazard=True), "refuse",
                       by="approver", measures=["无法消除隐患"])
    assert set(refused["decision"]) == DECISION_KEYS | {"reported_to", "document"}
    (row,) = decision_rows(owner_engine, refused["id"])
    assert row["reported_to"] == refused["decision"]["reported_to"]

    approved = desk.act(desk.surveyed(desk.register(connection_body(FAR)), hazard=False), "approve", by="approver")
    assert set(approved["decision"]) == DECISION_KEYS and approved["decision"]["measures"] == []


def test_re_assigning_a_pending_visit_changes_who_goes_on_the_same_row(desk: Desk, owner_engine: Engine) -> None:
    case = desk.act(desk.register(connection_body(NEAR)), "assign_survey", by="approver",
                    assignee_id=desk.people["inspector"].id)
    case = desk.act(case, "assign_survey", by="dispatcher", assignee_id=desk.people["inspector2"].id)

    (pending,) = visit_rows(owner_engine, case["id"])
    assert pending["assigned_to_id"] == desk.people["inspector2"].id
    assert pending["assigned_by_id"] == desk.people["dispatcher"].id and pending["visited_at"] is None
    assert case["survey"] is None and case["visits"][0]["visited_at"] is None
    case = desk.act(case, "record_survey", by="inspector2", findings="无隐患", hazard_found=False)
    assert [v["id"] for v in case["visits"]] == [pending["id"]] and case["survey"]["by"] == "test-inspector2"


@pytest.fixture
def statements(owner_engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement any engine of this process runs while the fixture is active."""
    seen: list[str] = []

    def remember(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", remember)
    yield seen
    event.remove(Engine, "before_cursor_execute", remember)


def test_a_page_of_cases_reads_its_visits_and_decisions_in_one_query_each(
        desk: Desk, statements: list[str]) -> None:
    for _ in range(3):
        case = desk.surveyed(desk.register(connection_body(NEAR)), hazard=True)
        desk.act(case, "issue_hazard_notice", by="approver", measures=["拆除"])
    statements.clear()

    response = desk.client.get("/api/v1/cases", headers=desk.people["approver"].headers)
    page = response.json()["items"]

    assert response.status_code == 200 and [len(c["visits"]) for c in page] == [1, 1, 1]
    assert all(c["decision"]["action"] == "issue_hazard_notice" for c in page)
    assert len([s for s in statements if "FROM site_visits" in s]) == 1
    assert len([s for s in statements if "FROM case_decisions" in s]) == 1
