"""Connection requests, construction permits and encroachment cases through the API: registration
with screening, routing and deadline; every workflow path with its history and audit trail; illegal
transitions; who may take which action; separation of duties; first responsibility. Who sees the
applicant's personal data is in test_privacy.py.
"""

from __future__ import annotations

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.cases.conftest import (
    ENCROACHMENTS,
    EVERY_ACTION,
    FAR,
    NEAR,
    REQUESTS,
    Clock,
    Desk,
    Person,
    assert_problem,
    connection_body,
    construction_body,
    count_rows,
)
from tests.gis.screening.conftest import point

# What the state machine allows in each state (issue 3 §4), written out independently of its table.
DECISIONS = ["approve", "approve_with_clauses", "issue_hazard_notice", "refuse"]
ALLOWED = {
    "screened": ["assign_survey"],
    "survey_assigned": ["assign_survey", "record_survey"],  # a pending visit can be re-assigned
    "surveyed": DECISIONS,
    "hazard_notice_issued": ["report_rectification"],
    "rectification_reported": ["assign_reinspection"],
    "reinspection_assigned": ["assign_reinspection", "record_reinspection"],
    "reinspected": DECISIONS,
}
# An encroachment the survey finds harmless can be resolved straight away (an unfounded report).
ENCROACHMENT_ALLOWED = {**ALLOWED, "surveyed": ["issue_hazard_notice", "refuse", "resolve"],
                        "reinspected": ["issue_hazard_notice", "refuse", "resolve"]}


def assert_trail(desk: Desk, case: dict[str, Any], steps: list[tuple[str, str]]) -> None:
    """History and audit log both hold one entry per action, in order, each moving the case to the
    given state; every audit record keeps the before and after of the case, chained, and the case
    has exactly one owner in every one of them."""
    assert [(e["action"], e["to_state"]) for e in case["history"]] == steps
    assert [e["from_state"] for e in case["history"]] == [None] + [state for _, state in steps[:-1]]
    records = desk.audit(case)
    assert [(r["action"], r["after"]["state"]) for r in records] == [(f"case.{a}", s) for a, s in steps]
    assert records[0]["before"] is None
    for previous, record in itertools.pairwise(records):
        assert record["before"] == previous["after"]
    assert all(isinstance(r["after"]["owner_id"], int) for r in records)
    assert records[-1]["after"]["version"] == case["version"]


def assert_closed(desk: Desk, case: dict[str, Any]) -> None:
    """A closed case offers no action, and every action is refused without changing it."""
    assert case["allowed_actions"] == []
    for action in EVERY_ACTION:
        body = assert_problem(desk.act_response(case, action.value, by="admin", measures=["x"]), 409)
        assert body["allowed_actions"] == []
    after = desk.get(case)
    assert (after["state"], after["version"]) == (case["state"], case["version"])


# --- 1. Registration ---------------------------------------------------------------------------------


def test_connection_request_near_a_line_is_screened_at_once_and_owned_by_its_registrar(
        desk: Desk, people: dict[str, Person], client: TestClient, network: dict[str, Any]) -> None:
    case = desk.register(connection_body(NEAR))

    assert case["kind"] == "connection" and case["number"].startswith("GW-YK-")
    assert case["state"] == "screened" and case["verdict"] == "conditional"
    assert case["owner"]["id"] == people["approver"].id and case["assignee"] is None
    assert case["allowed_actions"] == ["assign_survey"]
    assert case["department"]["code"] == "customer_service_centre"
    assert case["deadline_at"] is not None
    assert case["remaining"]["working_days"] == 3 and case["remaining"]["overdue"] is False
    assert [e["action"] for e in case["history"]] == ["submit", "screen"]
    assert case["history"][-1]["details"]["screening_ids"] == case["screening_ids"]

    (screening_id,) = case["screening_ids"]
    screening = client.get(f"/api/v1/screenings/{screening_id}", headers=people["approver"].headers).json()
    assert screening["verdict"] == "conditional" and screening["activity"] == "connection"
    (finding,) = screening["findings"]
    assert finding["asset"]["id"] == network["id"]
    assert finding["rule"]["source"] == "电力设施保护条例 §10(1)"
    assert finding["measured_m"] == pytest.approx(2.0, abs=0.05)


def test_request_far_from_lines_is_screened_clear(desk: Desk, client: TestClient, people: dict[str, Person]) -> None:
    case = desk.register(connection_body(FAR))

    assert case["state"] == "screened" and case["verdict"] == "clear"
    screening = client.get(f"/api/v1/screenings/{case['screening_ids'][0]}", headers=people["approver"].headers)
    assert screening.json()["verdict"] == "clear" and screening.json()["findings"] == []


@pytest.mark.parametrize(("body", "department", "survey_days"), [
    (connection_body(load_kw=10.0), "customer_service_centre", 3),
    (connection_body(load_kw=20.0), "customer_service_centre_capacity_check", 6),
    (connection_body(load_kw=270.0, voltage_kv=10.0, requested_capacity_kva=300.0), "key_account_office", 3),
    (connection_body(load_kw=720.0, voltage_kv=10.0, requested_capacity_kva=800.0), "marketing_department", 3),
    (construction_body(FAR), "safety_department", 3),
], ids=["lv-10kW", "lv-20kW", "10kV-300kVA", "10kV-800kVA", "construction-permit"])
def test_request_is_routed_by_size_to_its_department_with_its_survey_deadline(
        desk: Desk, body: dict[str, Any], department: str, survey_days: int) -> None:
    case = desk.register(body)

    assert case["department"]["code"] == department and case["department"]["name_en"]
    assert case["remaining"]["working_days"] == survey_days


def test_the_queue_lists_one_departments_cases_and_refuses_a_department_it_does_not_know(desk: Desk) -> None:
    small = desk.register(connection_body(load_kw=10.0))
    permit = desk.register(construction_body(FAR))
    headers = desk.people["approver"].headers

    safety = desk.client.get("/api/v1/cases", params={"department": "safety_department"}, headers=headers)
    unknown = desk.client.get("/api/v1/cases", params={"department": "safety_dept"}, headers=headers)

    assert safety.status_code == 200, safety.text
    assert [c["id"] for c in safety.json()["items"]] == [permit["id"]]
    assert small["department"]["code"] == "customer_service_centre"
    assert unknown.status_code == 422
    assert "safety_department" in unknown.json()["detail"]


BOWTIE = {"type": "Polygon", "coordinates": [[[NEAR[0] - 1e-4, NEAR[1] - 1e-4], [NEAR[0] + 1e-4, NEAR[1] + 1e-4],
                                              [NEAR[0] + 1e-4, NEAR[1] - 1e-4], [NEAR[0] - 1e-4, NEAR[1] + 1e-4],
                                              [NEAR[0] - 1e-4, NEAR[1] - 1e-4]]]}

# A site drawn 1.2 km north of the premises it is for (the limit is 1 km, a setting).
ELSEWHERE = {"type": "Polygon", "coordinates": [[[NEAR[0], NEAR[1] + 0.0108], [NEAR[0] + 1e-4, NEAR[1] + 0.0108],
                                                 [NEAR[0] + 1e-4, NEAR[1] + 0.0109], [NEAR[0], NEAR[1] + 0.0109],
                                                 [NEAR[0], NEAR[1] + 0.0108]]]}


@pytest.mark.parametrize(("body", "field"), [
    (connection_body(footprint=BOWTIE), "footprint"),
    (connection_body(footprint=ELSEWHERE), "footprint"),
    (connection_body(location={"type": "Point", "coordinates": [NEAR[0]]}), "location.coordinates"),
    (connection_body(load_kw=None), "requested_load_kw"),
    (construction_body(activities=[]), "activities"),
    (connection_body(request_type="construction_permit"), "request_type"),
    (construction_body(activities=[{"activity": "crane", "parameters": {"working_radius_m": 20.0}}]),
     "parameters.max_height_m"),
], ids=["self-crossing-footprint", "footprint-far-from-location", "point-without-latitude", "new-connection-without-load",
        "permit-without-activities", "connection-with-a-permit-type", "crane-without-height"])
def test_bad_registration_is_refused_naming_the_field_and_nothing_is_stored(
        desk: Desk, owner_engine: Engine, body: dict[str, Any], field: str) -> None:
    problem = assert_problem(desk.register_response(body), 422)

    assert [error["field"] for error in problem["errors"]] == [field], problem
    assert count_rows(owner_engine, "cases") == 0
    assert count_rows(owner_engine, "screenings") == 0


def test_same_idempotency_key_twice_registers_one_case(desk: Desk, owner_engine: Engine) -> None:
    first = desk.register_response(connection_body(), key="form-7f3a")
    again = desk.register_response(connection_body(), key="form-7f3a")

    assert first.status_code == 201 and again.status_code == 200, again.text
    assert again.json()["id"] == first.json()["id"] and again.json()["version"] == first.json()["version"]
    assert count_rows(owner_engine, "cases") == 1
    assert count_rows(owner_engine, "screenings") == 1


REUSED_KEY = [{"field": "Idempotency-Key", "message": "already used for a different request"}]


def test_same_idempotency_key_with_a_different_request_is_refused_and_registers_nothing(
        desk: Desk, owner_engine: Engine) -> None:
    first = desk.register_response(connection_body(), key="form-7f3a")
    other_load = desk.register_response(connection_body(load_kw=12.0), key="form-7f3a")
    other_site = desk.register_response(connection_body(FAR), key="form-7f3a")
    other_crs = desk.client.post(REQUESTS, params={"crs": "EPSG:4490"}, json=connection_body(),
                                 headers={**desk.people["approver"].headers, "Idempotency-Key": "form-7f3a"})

    assert first.status_code == 201, first.text
    for refused in (other_load, other_site, other_crs):
        assert assert_problem(refused, 422)["errors"] == REUSED_KEY
    assert count_rows(owner_engine, "cases") == 1
    assert count_rows(owner_engine, "screenings") == 1


def test_an_idempotency_key_of_a_request_is_refused_for_an_encroachment_report(
        desk: Desk, owner_engine: Engine) -> None:
    request = desk.register_response(connection_body(), by="admin", key="same-key")
    report = desk.client.post(ENCROACHMENTS, json={"location": connection_body()["location"], "description": "彩钢棚"},
                              headers={**desk.people["admin"].headers, "Idempotency-Key": "same-key"})

    assert request.status_code == 201, request.text
    assert assert_problem(report, 422)["errors"] == REUSED_KEY
    assert count_rows(owner_engine, "cases") == 1


def test_two_officers_may_use_the_same_idempotency_key(desk: Desk, owner_engine: Engine) -> None:
    mine = desk.register_response(connection_body(), by="approver", key="form-1")
    theirs = desk.register_response(connection_body(FAR), by="approver2", key="form-1")

    assert (mine.status_code, theirs.status_code) == (201, 201), theirs.text
    assert mine.json()["id"] != theirs.json()["id"]
    assert count_rows(owner_engine, "cases") == 2


def test_two_different_requests_sent_at_once_with_one_key_register_one(desk: Desk, owner_engine: Engine) -> None:
    start = threading.Barrier(2)

    def send(body: dict[str, Any]) -> Any:
        start.wait(timeout=10)
        return desk.register_response(body, key="double-tap")

    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(pool.map(send, [connection_body(), connection_body(FAR)]))

    assert sorted(r.status_code for r in responses) == [201, 422], [r.text for r in responses]
    assert count_rows(owner_engine, "cases") == 1


def test_a_key_stored_before_fingerprints_were_kept_returns_its_case(desk: Desk, owner_engine: Engine) -> None:
    """Cases registered before the upgrade have no fingerprint; their keys replay as before."""
    first = desk.register_response(connection_body(), key="before-upgrade")
    with owner_engine.begin() as conn:
        conn.execute(text("UPDATE cases SET idempotency_fingerprint = NULL"))

    retried = desk.register_response(connection_body(load_kw=12.0), key="before-upgrade")

    assert (first.status_code, retried.status_code) == (201, 200)
    assert retried.json()["id"] == first.json()["id"]


@pytest.mark.parametrize("role", ["inspector", "auditor"])
def test_only_approval_officers_register_requests(desk: Desk, owner_engine: Engine, role: str) -> None:
    assert_problem(desk.register_response(connection_body(), by=role), 403)
    assert count_rows(owner_engine, "cases") == 0


def test_a_case_offers_each_role_the_actions_its_role_may_take(desk: Desk) -> None:
    """What the console turns into buttons: a screened case needs a survey assigned, which
    dispatchers and approval officers may do; an inspector or an auditor is offered nothing."""
    case = desk.register(connection_body(NEAR))

    offered = {by: desk.get(case, by=by)["your_actions"] for by in ("dispatcher", "approver", "inspector", "auditor")}

    assert offered == {"dispatcher": ["assign_survey"], "approver": ["assign_survey"], "inspector": [], "auditor": []}
    surveyed = desk.surveyed(case, hazard=False)
    assert desk.get(surveyed, by="approver")["your_actions"] == DECISIONS
    assert desk.get(surveyed, by="dispatcher")["your_actions"] == []


# --- 2. Workflow paths -------------------------------------------------------------------------------


def test_clear_site_is_surveyed_and_approved_without_a_document(desk: Desk) -> None:
    case = desk.register(connection_body(FAR))
    case = desk.surveyed(case, hazard=False)
    assert case["allowed_actions"] == DECISIONS

    case = desk.act(case, "approve", by="approver")

    assert case["state"] == "approved" and case["decision"]["action"] == "approve"
    assert case["documents"] == [] and case["assignee"] is None and case["deadline_at"] is None
    assert_trail(desk, case, [("submit", "submitted"), ("screen", "screened"), ("assign_survey", "survey_assigned"),
                              ("record_survey", "surveyed"), ("approve", "approved")])
    assert_closed(desk, case)


def test_conditional_site_without_hazard_is_approved_only_with_protection_clauses(desk: Desk) -> None:
    case = desk.surveyed(desk.register(connection_body(NEAR)), hazard=False)

    refused = assert_problem(desk.act_response(case, "approve", by="approver"), 409)
    assert refused["allowed_actions"] == ["approve_with_clauses"]
    assert desk.get(case)["version"] == case["version"]
    case = desk.act(case, "approve_with_clauses", by="approver", measures=["不得在保护区内堆放物品"])

    assert case["state"] == "approved_with_clauses"
    assert case["decision"]["measures"] == ["不得在保护区内堆放物品"]
    (document,) = case["documents"]
    assert document["kind"] == "approval_with_clauses"
    assert case["decision"]["document"] == {"id": document["id"], "serial_number": document["serial_number"]}
    assert_trail(desk, case, [("submit", "submitted"), ("screen", "screened"), ("assign_survey", "survey_assigned"),
                              ("record_survey", "surveyed"), ("approve_with_clauses", "approved_with_clauses")])


def test_hazard_is_approved_only_after_rectification_passes_reinspection(desk: Desk) -> None:
    case = desk.surveyed(desk.register(connection_body(NEAR)), hazard=True)
    blocked = assert_problem(desk.act_response(case, "approve_with_clauses", by="approver"), 409)
    assert blocked["allowed_actions"] == ["issue_hazard_notice", "refuse"]
    missing = assert_problem(desk.act_response(case, "issue_hazard_notice", by="approver"), 422)
    assert [e["field"] for e in missing["errors"]] == ["measures"]

    case = desk.act(case, "issue_hazard_notice", by="approver", measures=["拆除保护区内的彩钢棚"])
    assert case["state"] == "hazard_notice_issued" and case["documents"][-1]["kind"] == "hazard_notice"
    case = desk.reinspected(case, passed=False)
    assert case["state"] == "reinspected" and case["survey"]["reinspection"]["passed"] is False
    for action in ("approve", "approve_with_clauses"):
        blocked = assert_problem(desk.act_response(case, action, by="approver", measures=["x"]), 409)
        assert blocked["allowed_actions"] == ["issue_hazard_notice", "refuse"]
    case = desk.act(case, "issue_hazard_notice", by="approver", measures=["彩钢棚须整体拆除"], rectification_days=5)
    case = desk.reinspected(case, passed=True)
    still_in_zone = assert_problem(desk.act_response(case, "approve", by="approver"), 409)
    assert still_in_zone["allowed_actions"] == ["approve_with_clauses"]
    case = desk.act(case, "approve_with_clauses", by="approver", measures=["不得在保护区内搭建"])

    assert case["state"] == "approved_with_clauses"
    assert [d["kind"] for d in case["documents"]] == ["hazard_notice", "hazard_notice", "approval_with_clauses"]
    visit = [("report_rectification", "rectification_reported"), ("assign_reinspection", "reinspection_assigned"),
             ("record_reinspection", "reinspected")]
    assert_trail(desk, case, [("submit", "submitted"), ("screen", "screened"), ("assign_survey", "survey_assigned"),
                              ("record_survey", "surveyed"), ("issue_hazard_notice", "hazard_notice_issued"),
                              *visit, ("issue_hazard_notice", "hazard_notice_issued"), *visit,
                              ("approve_with_clauses", "approved_with_clauses")])


def test_irremovable_hazard_is_refused_reported_to_the_safety_department_and_closed(desk: Desk) -> None:
    case = desk.surveyed(desk.register(connection_body(NEAR)), hazard=True)
    missing = assert_problem(desk.act_response(case, "refuse", by="approver"), 422)
    assert [e["field"] for e in missing["errors"]] == ["measures"]

    case = desk.act(case, "refuse", by="approver", measures=["拟建房屋位于10 kV线路保护区内，无法消除隐患"])

    assert case["state"] == "refused"
    assert "安全监察部门" in case["decision"]["reported_to"]
    assert [d["kind"] for d in case["documents"]] == ["refusal"]
    assert_trail(desk, case, [("submit", "submitted"), ("screen", "screened"), ("assign_survey", "survey_assigned"),
                              ("record_survey", "surveyed"), ("refuse", "refused")])
    assert_closed(desk, case)


def test_building_inside_a_zone_is_a_conflict_that_cannot_be_approved(desk: Desk) -> None:
    case = desk.register(construction_body(NEAR))
    assert case["verdict"] == "conflict" and case["department"]["code"] == "safety_department"
    case = desk.surveyed(case, hazard=False)

    for action in ("approve", "approve_with_clauses"):
        blocked = assert_problem(desk.act_response(case, action, by="approver", measures=["x"]), 409)
        assert blocked["allowed_actions"] == ["issue_hazard_notice", "refuse"]
    assert desk.get(case)["version"] == case["version"]


def test_encroachment_found_on_patrol_follows_the_hazard_notice_branch_to_resolved(
        desk: Desk, people: dict[str, Person]) -> None:
    case = desk.report(NEAR, by="inspector")
    assert case["kind"] == "encroachment" and case["state"] == "screened" and case["verdict"] == "conflict"
    assert case["owner"]["id"] == people["inspector"].id
    assert case["department"]["code"] == "safety_department"
    assert case["voltage_kv"] == 10.0  # taken from the line it encroaches on, for the stage time limits

    case = desk.surveyed(case, hazard=True, surveyor="inspector2", assigner="dispatcher")
    assert case["allowed_actions"] == ENCROACHMENT_ALLOWED["surveyed"]
    assert assert_problem(desk.act_response(case, "approve", by="approver"), 409)["allowed_actions"] == \
        ENCROACHMENT_ALLOWED["surveyed"]
    case = desk.act(case, "issue_hazard_notice", by="approver", measures=["限期拆除违章建筑"])
    case = desk.reinspected(case, passed=True, inspector="inspector2", assigner="dispatcher")
    assert case["allowed_actions"] == ENCROACHMENT_ALLOWED["reinspected"]
    assert_problem(desk.act_response(case, "approve", by="approver"), 409)
    case = desk.act(case, "resolve", by="approver")

    assert case["state"] == "resolved" and case["owner"]["id"] == people["inspector"].id
    assert [d["kind"] for d in case["documents"]] == ["hazard_notice"]
    visit = [("report_rectification", "rectification_reported"), ("assign_reinspection", "reinspection_assigned"),
             ("record_reinspection", "reinspected")]
    assert_trail(desk, case, [("submit", "submitted"), ("screen", "screened"), ("assign_survey", "survey_assigned"),
                              ("record_survey", "surveyed"), ("issue_hazard_notice", "hazard_notice_issued"),
                              *visit, ("resolve", "resolved")])
    assert_closed(desk, case)


# --- 3. Illegal transitions and versions -------------------------------------------------------------


def assert_only_allowed_actions_move(desk: Desk, case: dict[str, Any], allowed: list[str]) -> None:
    """Every action the state does not allow is a 409 naming the allowed ones, and changes nothing."""
    assert case["allowed_actions"] == allowed
    for action in EVERY_ACTION:
        if action.value in allowed:
            continue
        body = assert_problem(desk.act_response(case, action.value, by="admin", measures=["x"]), 409)
        assert body["allowed_actions"] == allowed, action
    after = desk.get(case)
    assert (after["state"], after["version"], after["history"]) == (case["state"], case["version"], case["history"])


def test_in_every_state_only_the_allowed_actions_are_possible(desk: Desk, people: dict[str, Person]) -> None:
    inspector = people["inspector"].id
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("assign_survey", "approver", {"assignee_id": inspector}),
        ("record_survey", "inspector", {"findings": "有隐患", "hazard_found": True}),
        ("issue_hazard_notice", "approver", {"measures": ["拆除"]}),
        ("report_rectification", "approver", {"note": "已整改"}),
        ("assign_reinspection", "approver", {"assignee_id": inspector}),
        ("record_reinspection", "inspector", {"findings": "已拆除", "passed": True}),
        ("approve_with_clauses", "approver", {"measures": ["不得搭建"]}),
    ]
    case = desk.register(connection_body(NEAR))
    for action, by, body in steps:
        assert_only_allowed_actions_move(desk, case, ALLOWED[case["state"]])
        case = desk.act(case, action, by=by, **body)
    assert_closed(desk, case)


def test_stale_or_missing_if_match_is_refused_and_changes_nothing(desk: Desk, people: dict[str, Person]) -> None:
    case = desk.register(connection_body())
    assign = {"assignee_id": people["inspector"].id}

    stale = assert_problem(desk.act_response(case, "assign_survey", by="approver", version=case["version"] - 1,
                                             **assign), 412)
    assert stale["current_version"] == case["version"]
    assert_problem(desk.act_response(case, "assign_survey", by="approver", if_match=False, **assign), 428)
    assert_problem(desk.client.post(f"/api/v1/cases/{case['id']}/hand-over",
                                    json={"to_user_id": people["approver2"].id, "reason": "x"},
                                    headers=people["approver"].headers), 428)
    after = desk.get(case)
    assert (after["state"], after["version"], after["assignee"]) == ("screened", case["version"], None)


# --- 4. Roles per action -----------------------------------------------------------------------------


def test_each_action_is_taken_only_by_a_role_that_may(desk: Desk, people: dict[str, Person]) -> None:
    case = desk.register(connection_body())
    assert_problem(desk.act_response(case, "assign_survey", by="inspector",
                                     assignee_id=people["inspector"].id), 403)
    not_surveyor = assert_problem(desk.act_response(case, "assign_survey", by="approver",
                                                    assignee_id=people["auditor"].id), 422)
    assert [e["field"] for e in not_surveyor["errors"]] == ["assignee_id"]
    assert_problem(desk.act_response(case, "assign_survey", by="approver", assignee_id=10**9), 422)
    case = desk.act(case, "assign_survey", by="approver", assignee_id=people["inspector"].id)

    survey = {"findings": "无隐患", "hazard_found": False}
    assert_problem(desk.act_response(case, "record_survey", by="approver", **survey), 403)
    assert_problem(desk.act_response(case, "record_survey", by="inspector2", **survey), 403)
    case = desk.act(case, "record_survey", by="inspector", **survey)
    assert case["survey"]["by"] == "test-inspector"

    assert_problem(desk.act_response(case, "approve_with_clauses", by="inspector"), 403)
    assert_problem(desk.act_response(case, "approve_with_clauses", by="auditor"), 403)
    assert desk.get(case)["version"] == case["version"]


# --- 5. Separation of duties -------------------------------------------------------------------------


def test_whoever_surveyed_the_site_cannot_decide_it(desk: Desk) -> None:
    case = desk.surveyed(desk.register(connection_body(NEAR)), hazard=False, surveyor="admin2")

    for action in DECISIONS:
        assert_problem(desk.act_response(case, action, by="admin2", measures=["x"]), 403)
    assert desk.get(case)["version"] == case["version"]
    case = desk.act(case, "approve_with_clauses", by="approver2", measures=["不得在保护区内堆放物品"])
    assert case["state"] == "approved_with_clauses" and case["decision"]["by"] == "test-approver2"


def test_whoever_reinspected_the_site_cannot_decide_it(desk: Desk) -> None:
    case = desk.surveyed(desk.register(connection_body(NEAR)), hazard=True)
    case = desk.act(case, "issue_hazard_notice", by="approver", measures=["拆除"])
    case = desk.reinspected(case, passed=True, inspector="admin2")

    for action in DECISIONS:
        assert_problem(desk.act_response(case, action, by="admin2", measures=["x"]), 403)
    case = desk.act(case, "approve_with_clauses", by="approver", measures=["不得搭建"])
    assert case["state"] == "approved_with_clauses"


# --- 6. First responsibility -------------------------------------------------------------------------


def test_owner_hands_the_case_over_with_a_reason_that_is_audited(desk: Desk, people: dict[str, Person]) -> None:
    case = desk.register(connection_body())
    response = desk.hand_over_response(case, people["approver2"].id, by="approver", reason="调岗交接")

    assert response.status_code == 200, response.text
    case = response.json()
    assert case["owner"]["id"] == people["approver2"].id and case["state"] == "screened"
    assert case["history"][-1]["action"] == "hand_over"
    assert case["history"][-1]["details"] == {"from_user_id": people["approver"].id,
                                              "to_user_id": people["approver2"].id, "reason": "调岗交接"}
    record = desk.audit(case)[-1]
    assert record["action"] == "case.hand_over" and record["reason"] == "调岗交接"
    assert record["actor_name"] == "test-approver"
    assert (record["before"]["owner_id"], record["after"]["owner_id"]) == (people["approver"].id,
                                                                         people["approver2"].id)


def test_someone_who_assigns_work_may_hand_over_a_case_they_do_not_own(desk: Desk,
                                                                       people: dict[str, Person]) -> None:
    case = desk.register(connection_body())
    response = desk.hand_over_response(case, people["approver2"].id, by="dispatcher")

    assert response.status_code == 200, response.text
    assert response.json()["owner"]["id"] == people["approver2"].id


def test_an_inspector_hands_over_only_the_cases_they_own(desk: Desk, people: dict[str, Person]) -> None:
    case = desk.report(NEAR, by="inspector")
    assert_problem(desk.hand_over_response(case, people["inspector2"].id, by="inspector2"), 403)

    response = desk.hand_over_response(case, people["inspector2"].id, by="inspector")
    assert response.status_code == 200, response.text
    case = response.json()
    assert case["owner"]["id"] == people["inspector2"].id
    assert_problem(desk.hand_over_response(case, people["inspector"].id, by="inspector"), 403)


def test_hand_over_to_an_unknown_user_an_auditor_or_after_closure_is_refused(desk: Desk,
                                                                             people: dict[str, Person]) -> None:
    case = desk.register(connection_body(FAR))
    for target in (10**9, people["auditor"].id):
        refused = assert_problem(desk.hand_over_response(case, target, by="approver"), 422)
        assert [e["field"] for e in refused["errors"]] == ["to_user_id"]
    case = desk.act(desk.surveyed(case, hazard=False), "approve", by="approver")

    closed = assert_problem(desk.hand_over_response(case, people["approver2"].id, by="approver"), 409)
    assert closed["allowed_actions"] == []
    after = desk.get(case)
    assert after["owner"]["id"] == people["approver"].id and after["version"] == case["version"]


def test_same_idempotency_key_sent_twice_at_once_registers_one_case(desk: Desk, owner_engine: Engine) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(pool.map(lambda _: desk.register_response(connection_body(), key="double-tap"), range(2)))

    assert sorted(r.status_code for r in responses) == [200, 201], [r.text for r in responses]
    assert responses[0].json()["id"] == responses[1].json()["id"]
    assert count_rows(owner_engine, "cases") == 1


def test_a_pending_survey_is_reassigned_when_the_surveyor_cannot_go(desk: Desk, people: dict[str, Person]) -> None:
    case = desk.register(connection_body(NEAR))
    case = desk.act(case, "assign_survey", by="approver", assignee_id=people["inspector"].id)

    case = desk.act(case, "assign_survey", by="approver", assignee_id=people["inspector2"].id)

    assert case["state"] == "survey_assigned" and case["assignee"]["id"] == people["inspector2"].id
    assert_problem(desk.act_response(case, "record_survey", by="inspector", findings="x", hazard_found=False), 403)
    case = desk.act(case, "record_survey", by="inspector2", findings="无隐患", hazard_found=False)
    assert case["state"] == "surveyed"


def test_an_unfounded_encroachment_report_is_resolved_after_the_survey(desk: Desk) -> None:
    case = desk.surveyed(desk.report(), hazard=False, assigner="dispatcher")

    case = desk.act(case, "resolve", by="approver", note="现场核实：临时堆放，已自行清理")

    assert case["state"] == "resolved" and case["documents"] == []


def test_an_action_without_a_body_is_taken_when_it_needs_no_details(desk: Desk) -> None:
    case = desk.surveyed(desk.register(connection_body(FAR)), hazard=False)

    response = desk.client.post(f"/api/v1/cases/{case['id']}/actions/approve",
                                headers={**desk.people["approver"].headers, "If-Match": f'"{case["version"]}"'})

    assert response.status_code == 200 and response.json()["state"] == "approved"


def test_clients_of_the_paths_before_the_rename_keep_working(desk: Desk, clock: Clock) -> None:
    """Cases were at /requests and /encroachments before they had one name: those paths answer as
    /cases does, and are not advertised in the OpenAPI document."""
    clock.set(datetime.now(UTC))  # both paths read at one moment: the same time left, to the microsecond
    approver, inspector = desk.people["approver"].headers, desk.people["inspector"].headers
    registered = desk.client.post("/api/v1/requests", json=connection_body(FAR), headers=approver)
    reported = desk.client.post("/api/v1/encroachments", json={"location": point(NEAR), "site_address": "幸福路",
                                                               "description": "脚手架"}, headers=inspector)
    assert registered.status_code == 201 and reported.status_code == 201, (registered.text, reported.text)
    case = registered.json()

    old = desk.client.get(f"/api/v1/requests/{case['id']}", headers=approver)
    new = desk.get(case)
    assigned = desk.client.post(f"/api/v1/requests/{case['id']}/actions/assign_survey",
                                json={"assignee_id": desk.people["inspector"].id},
                                headers={**approver, "If-Match": old.headers["ETag"]})

    assert old.json() == new
    assert assigned.status_code == 200 and assigned.json()["state"] == "survey_assigned"
    assert reported.json()["kind"] == "encroachment"
    paths = desk.client.get("/api/v1/openapi.json").json()["paths"]
    assert not [path for path in paths if path.startswith(("/api/v1/requests", "/api/v1/encroachments"))]
