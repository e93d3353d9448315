"""Need to know (DOMAIN.md §6, issue 7 §5): an applicant's phone and ID number are shown in full only
to those who have a part in that case (its owner, its assignee, a deciding officer), each field only
to roles that need it (the phone: everyone who works cases; the ID number: approval officers), and
masked for everyone else, other staff of the same role and administrators included. Lists, single
reads and action responses follow the same rule; every response that shows personal data in full
leaves one audit record naming the cases and fields it showed.
"""

from __future__ import annotations

from typing import Any

import pytest

from core.permissions import Role
from tests.cases.conftest import FAR, NEAR, REQUESTS, Desk, Person, assert_problem, connection_body, pdf_text

PHONE, ID_NUMBER = "13800138000", "110101199003071234"
MASKED_PHONE, MASKED_ID_NUMBER = "13*******00", "*" * 14 + "1234"
PARTS = ("owner", "assignee", "decider", "unrelated")
# How the workflow refuses a part to a role that cannot have it: a hand-over or an assignment to
# them is invalid input naming the person; a decision by them is not their role's to take.
REFUSED = {"owner": 422, "assignee": 422, "decider": 403}

# Written out independently of the code: (role, part in the case) -> (phone in full, ID number in
# full), or None where the role cannot have that part (the workflow refuses to give it to them).
NEED_TO_KNOW: dict[tuple[Role, str], tuple[bool, bool] | None] = {
    (Role.admin, "owner"): (True, True),
    (Role.admin, "assignee"): (True, True),
    (Role.admin, "decider"): (True, True),
    (Role.admin, "unrelated"): (False, False),
    (Role.dispatcher, "owner"): (True, False),
    (Role.dispatcher, "assignee"): None,  # dispatchers do not survey sites
    (Role.dispatcher, "decider"): None,  # nor decide
    (Role.dispatcher, "unrelated"): (False, False),
    (Role.inspector, "owner"): (True, False),
    (Role.inspector, "assignee"): (True, False),
    (Role.inspector, "decider"): None,
    (Role.inspector, "unrelated"): (False, False),
    (Role.approver, "owner"): (True, True),
    (Role.approver, "assignee"): None,
    (Role.approver, "decider"): (True, True),
    (Role.approver, "unrelated"): (False, False),
    (Role.auditor, "owner"): None,  # auditors check the work, they never own it
    (Role.auditor, "assignee"): None,
    (Role.auditor, "decider"): None,
    (Role.auditor, "unrelated"): (False, False),
    (Role.supervisor, "owner"): None,  # supervisors review field work; cases are not theirs to own
    (Role.supervisor, "assignee"): None,
    (Role.supervisor, "decider"): None,
    (Role.supervisor, "unrelated"): (False, False),
}


def contact_views(desk: Desk, person: Person) -> list[dict[str, Any]]:
    """The audit records of personal data `person` was shown in full, oldest first."""
    response = desk.client.get("/api/v1/audit", params={"actor": person.username, "entity_type": "case",
                                                         "limit": 200}, headers=desk.people["admin"].headers)
    assert response.status_code == 200, response.text
    return [r for r in reversed(response.json()["items"]) if r["action"] == "case.contact_view"]


def listed(desk: Desk, person: Person, case: dict[str, Any]) -> dict[str, Any]:
    """`case` as it appears in the list of cases `person` reads."""
    response = desk.client.get(REQUESTS, headers=person.headers)
    assert response.status_code == 200, response.text
    (found,) = [c for c in response.json()["items"] if c["id"] == case["id"]]
    return dict(found)


def worked_case(desk: Desk) -> dict[str, Any]:
    """A request owned by approver2, surveyed by inspector2 (still its assignee), with a hazard
    notice issued by approver2: nobody else has a part in it."""
    case = desk.register(connection_body(NEAR), by="approver2")
    case = desk.surveyed(case, hazard=True, surveyor="inspector2", assigner="approver2")
    return desk.act(case, "issue_hazard_notice", by="approver2", measures=["拆除保护区内的彩钢棚"])


def give_part(desk: Desk, case: dict[str, Any], name: str, part: str) -> Any:
    """Try to give person `name` the `part` in `case` the way the workflow does; the response."""
    person = desk.people[name]
    if part == "owner":
        return desk.hand_over_response(case, person.id, by="approver2")
    case = desk.act(case, "report_rectification", by="approver2", note="客户报告已整改")
    if part == "assignee":
        return desk.act_response(case, "assign_reinspection", by="approver2", assignee_id=person.id)
    case = desk.act(case, "assign_reinspection", by="approver2", assignee_id=desk.people["inspector2"].id)
    case = desk.act(case, "record_reinspection", by="inspector2", findings="已拆除", passed=True)
    return desk.act_response(case, "approve_with_clauses", by=name, measures=["不得在保护区内搭建"])


def assert_seen(case: dict[str, Any], *, phone: bool, id_number: bool) -> None:
    assert case["applicant_phone"] == (PHONE if phone else MASKED_PHONE)
    assert case["applicant_id_number"] == (ID_NUMBER if id_number else MASKED_ID_NUMBER)


@pytest.mark.parametrize("part", PARTS)
@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_personal_data_is_shown_in_full_only_to_who_has_a_part_in_the_case_and_each_view_is_logged(
        desk: Desk, role: Role, part: str) -> None:
    person = desk.people[role.value]
    case = worked_case(desk)
    expected = NEED_TO_KNOW[(role, part)]
    if part != "unrelated":
        given = give_part(desk, case, role.value, part)
        if expected is None:
            assert_problem(given, REFUSED[part])  # the workflow refuses the part
        else:
            assert given.status_code == 200, given.text
    phone, id_number = expected or (False, False)
    shown = sorted(field for field, full in (("applicant_id_number", id_number), ("applicant_phone", phone)) if full)
    views_before = len(contact_views(desk, person))

    single = desk.get(case, by=role.value)
    assert_seen(single, phone=phone, id_number=id_number)
    in_list = listed(desk, person, case)
    assert_seen(in_list, phone=phone, id_number=id_number)

    views = contact_views(desk, person)[views_before:]
    if not shown:
        assert views == []
    else:
        assert len(views) == 2  # one per response: the single read and the list
        for view in views:
            assert (view["entity_id"], view["after"]) == (str(case["id"]), {"case_ids": [case["id"]],
                                                                             "fields": {str(case["id"]): shown}})


def test_others_of_the_same_role_see_the_case_masked(desk: Desk) -> None:
    case = worked_case(desk)

    assert_seen(desk.get(case, by="approver2"), phone=True, id_number=True)  # its owner and decider
    assert_seen(desk.get(case, by="approver"), phone=False, id_number=False)
    assert_seen(desk.get(case, by="inspector2"), phone=True, id_number=False)  # its assignee
    assert_seen(desk.get(case, by="inspector"), phone=False, id_number=False)


def test_a_list_shows_in_full_only_the_cases_of_the_reader_and_logs_them_in_one_record(desk: Desk) -> None:
    mine = [desk.register(connection_body(NEAR)), desk.register(connection_body(FAR))]
    theirs = desk.register(connection_body(NEAR), by="approver2")
    approver = desk.people["approver"]
    views_before = len(contact_views(desk, approver))

    response = desk.client.get(REQUESTS, headers=approver.headers)

    assert response.status_code == 200
    by_id = {c["id"]: c for c in response.json()["items"]}
    for case in mine:
        assert_seen(by_id[case["id"]], phone=True, id_number=True)
    assert_seen(by_id[theirs["id"]], phone=False, id_number=False)
    (view,) = contact_views(desk, approver)[views_before:]
    assert view["entity_id"] == "many"
    assert view["after"] == {"case_ids": [c["id"] for c in mine],
                             "fields": {str(c["id"]): ["applicant_id_number", "applicant_phone"] for c in mine}}


def test_action_responses_follow_the_same_rule(desk: Desk, people: dict[str, Person]) -> None:
    case = desk.register(connection_body(NEAR))

    assigned = desk.act(case, "assign_survey", by="dispatcher", assignee_id=people["inspector"].id)
    assert_seen(assigned, phone=False, id_number=False)  # the dispatcher only assigned it
    surveyed = desk.act(assigned, "record_survey", by="inspector", findings="无隐患", hazard_found=False)
    assert_seen(surveyed, phone=True, id_number=False)  # the surveyor needs to call, not to identify

    handed = desk.hand_over_response(surveyed, people["approver2"].id, by="approver")
    assert handed.status_code == 200, handed.text
    assert_seen(handed.json(), phone=False, id_number=False)  # no longer the owner
    decided = desk.act(handed.json(), "approve_with_clauses", by="approver", measures=["不得堆放"])
    assert_seen(decided, phone=True, id_number=True)  # the deciding officer
    assert_seen(desk.get(decided, by="inspector"), phone=False, id_number=False)  # the visit is over


def test_reassigning_a_visit_ends_the_first_surveyors_view(desk: Desk, people: dict[str, Person]) -> None:
    case = desk.act(desk.register(connection_body(NEAR)), "assign_survey", by="approver",
                    assignee_id=people["inspector"].id)
    assert_seen(desk.get(case, by="inspector"), phone=True, id_number=False)

    desk.act(case, "assign_survey", by="approver", assignee_id=people["inspector2"].id)

    assert_seen(desk.get(case, by="inspector"), phone=False, id_number=False)
    assert_seen(desk.get(case, by="inspector2"), phone=True, id_number=False)


def test_decision_documents_carry_neither_phone_nor_id_number(desk: Desk) -> None:
    case = desk.surveyed(desk.register(connection_body(NEAR)), hazard=False)
    case = desk.act(case, "approve_with_clauses", by="approver", measures=["不得在保护区内堆放物品"])

    _, pdf = desk.document(case)
    text = pdf_text(pdf)

    assert "张三" in text  # the applicant is named on their decision
    assert PHONE not in text and ID_NUMBER not in text
    assert_seen(case, phone=True, id_number=True)
