"""Decision documents as the officer and the applicant get them: issued by a decision, downloaded as
PDF, with a continuous serial number, the request number, the findings that explain the decision
(legal source and measured distance), sign-off by name and date, in Chinese or English; and a
decision that cannot store its document is not taken at all.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from core.settings import Settings
from tests.cases.conftest import NEAR, Desk, assert_problem, connection_body, count_rows, pdf_text

TITLES = {
    ("hazard_notice", "zh"): "消除隐患通知书",
    ("approval_with_clauses", "zh"): "用电报装批复（含电力设施保护条款）",
    ("refusal", "zh"): "不予批准决定书",
    ("hazard_notice", "en"): "Hazard Elimination Notice",
    ("approval_with_clauses", "en"): "Approval of Connection Request with Power Facility Protection Clauses",
    ("refusal", "en"): "Decision of Refusal",
}
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")


def signed_today(language: str) -> str:
    """Today's date in Beijing as the document writes it."""
    day = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    if language == "zh":
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def serial(series: str, number: int) -> str:
    return f"GW-{series}-{datetime.now(ZoneInfo('Asia/Shanghai')).year}-{number:06d}"


def finding_of(desk: Desk, case: dict[str, Any]) -> dict[str, Any]:
    """The one finding of the case's screening, as GET /screenings/{id} explains it."""
    (screening_id,) = case["screening_ids"]
    response = desk.client.get(f"/api/v1/screenings/{screening_id}", headers=desk.people["approver"].headers)
    (finding,) = response.json()["findings"]
    return dict(finding)


def assert_document(desk: Desk, case: dict[str, Any], *, kind: str, language: str, serial_number: str,
                    signer: str, phrases: tuple[str, ...] = ()) -> str:
    """The case's latest document is this one, its bytes are what the case's hash says, and its
    text carries what a reader checks; returns the text (whitespace removed)."""
    entry, pdf = desk.document(case)
    assert (entry["kind"], entry["language"], entry["serial_number"]) == (kind, language, serial_number)
    assert entry["signed_by"] == signer
    assert entry["sha256"] == hashlib.sha256(pdf).hexdigest() and entry["size_bytes"] == len(pdf)
    finding = finding_of(desk, case)
    text = pdf_text(pdf)
    for phrase in (TITLES[kind, language], serial_number, case["number"], signer, signed_today(language),
                   finding["rule"]["source"], f"{finding['measured_m']:.2f}m", *phrases):
        assert phrase.replace(" ", "") in text, phrase
    return text


def test_hazard_notices_are_numbered_continuously_in_the_language_asked_for(desk: Desk) -> None:
    case = desk.surveyed(desk.register(connection_body(NEAR)), hazard=True)
    assert finding_of(desk, case)["measured_m"] == pytest.approx(2.0, abs=0.05)

    case = desk.act(case, "issue_hazard_notice", by="approver2", language="zh", measures=["拆除保护区内的彩钢棚"])
    assert_document(desk, case, kind="hazard_notice", language="zh", serial_number=serial("HN", 1), signer="王审批",
                    phrases=("拆除保护区内的彩钢棚",))
    case = desk.reinspected(case, passed=False)
    case = desk.act(case, "issue_hazard_notice", by="approver", language="en",
                    measures=["Remove the whole steel shed"])
    text = assert_document(desk, case, kind="hazard_notice", language="en", serial_number=serial("HN", 2),
                           signer="test-approver", phrases=("Remove the whole steel shed",))

    assert "消除隐患通知书" not in text
    assert [d["serial_number"] for d in case["documents"]] == [serial("HN", 1), serial("HN", 2)]


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize(("action", "kind", "series"), [
    ("approve_with_clauses", "approval_with_clauses", "AP"),
    ("refuse", "refusal", "RF"),
])
def test_approval_and_refusal_documents_in_chinese_and_english(desk: Desk, action: str, kind: str, series: str,
                                                               language: str) -> None:
    case = desk.surveyed(desk.register(connection_body(NEAR)), hazard=False)

    case = desk.act(case, action, by="approver", language=language, measures=["保护区内不得堆放物品"])

    assert case["decision"]["document"]["serial_number"] == serial(series, 1)
    assert_document(desk, case, kind=kind, language=language, serial_number=serial(series, 1),
                    signer="test-approver", phrases=("保护区内不得堆放物品",))


def test_document_of_another_case_is_not_found(desk: Desk) -> None:
    case = desk.act(desk.surveyed(desk.register(connection_body(NEAR)), hazard=False), "approve_with_clauses",
                    by="approver", measures=["不得堆放"])
    other = desk.register(connection_body(NEAR))
    document_id = case["documents"][0]["id"]

    response = desk.client.get(f"/api/v1/cases/{other['id']}/documents/{document_id}",
                               headers=desk.people["approver"].headers)
    assert_problem(response, 404)


@pytest.fixture
def storage_down(settings: Settings, desk: Desk) -> Any:
    """The same API, but pointed at an S3 endpoint nobody listens on."""
    broken = settings.model_copy(update={"s3": settings.s3.model_copy(update={"endpoint": "127.0.0.1:1"})})
    with TestClient(create_app(broken), raise_server_exceptions=False) as client:
        yield Desk(client, desk.people)


def test_decision_without_storage_is_not_taken_and_consumes_no_serial(desk: Desk, storage_down: Desk,
                                                                      owner_engine: Engine) -> None:
    case = desk.surveyed(desk.register(connection_body(NEAR)), hazard=True)

    failed = assert_problem(storage_down.act_response(case, "issue_hazard_notice", by="approver",
                                                      measures=["拆除"]), 503)

    assert failed["service"] == "s3"
    after = desk.get(case)
    assert (after["state"], after["version"], after["documents"]) == ("surveyed", case["version"], [])
    assert after["history"] == case["history"]
    assert count_rows(owner_engine, "decision_documents") == 0
    case = desk.act(case, "issue_hazard_notice", by="approver", measures=["拆除"])
    assert case["documents"][0]["serial_number"] == serial("HN", 1)


def test_two_officers_deciding_at_once_issue_one_document(desk: Desk, owner_engine: Engine) -> None:
    case = desk.surveyed(desk.register(connection_body(NEAR)), hazard=False)

    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(pool.map(lambda by: desk.act_response(case, "approve_with_clauses", by=by,
                                                                 measures=["不得堆放"]), ["approver", "approver2"]))

    assert sorted(r.status_code for r in responses) == [200, 412], [r.text for r in responses]
    assert [d["serial_number"] for d in desk.get(case)["documents"]] == [serial("AP", 1)]
    assert count_rows(owner_engine, "decision_documents") == 1
