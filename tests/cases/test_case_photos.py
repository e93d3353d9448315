"""The case's site photos where the officer and the applicant see them: on the case's page (every
reader of the case sees the list, with the routes of the thumbnail and large variants) and in its
hazard notice, approval or refusal ("Photographic evidence / 现场照片": thumbnail, capture time in the
utility's time zone, distance to the asset, and why a photo is suspicious). A case without photos
prints no such section; a deleted or rejected photo is neither listed nor printed; with object
storage down the decision is not taken."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from cases.documents import render_decision_pdf
from cases.documents.photos import PHOTO_LIMIT, DocumentPhoto
from core.storage import ObjectStorage
from tests.cases.conftest import NEAR, Desk, assert_problem, connection_body, count_rows, pdf_text
from tests.cases.test_decision_documents_api import storage_down
from tests.cases.test_documents import make_document
from tests.cases.test_site_visits import statements
from tests.media.case_evidence import add_finding, add_photo, jpeg, visit_task_uuid

# A storage-down console, as the decision document tests use it, and the SQL statement recorder of
# the site visit tests; pytest finds them by their names here.
FIXTURES = (storage_down, statements)
TAKEN = datetime(2026, 11, 29, 6, 30, tzinfo=UTC)  # 14:30 in Hefei (Asia/Shanghai)
TAKEN_TEXT = {"zh": "2026年11月29日14:30", "en": "2026-11-2914:30"}
HEADING = {"zh": "现场照片", "en": "Photographicevidence"}
SUSPICIOUS = {"zh": "存疑：拍摄地点距电力设施过远", "en": "Suspicious:takentoofarfromtheasset"}


def image_count(pdf: bytes) -> int:
    """Raster images embedded in the PDF (the site map is drawn as vectors: these are the photos)."""
    return sum(len(page.images) for page in PdfReader(io.BytesIO(pdf)).pages)


def surveyed_with_photos(desk: Desk, session_factory: sessionmaker[Session], storage: ObjectStorage,
                         *, hazard: bool = True) -> tuple[dict[str, Any], dict[str, int]]:
    """A surveyed case whose inspector attached a verified photo to the visit task and a suspicious
    one to a finding on it, plus a rejected and a deleted photo that must show nowhere."""
    case = desk.surveyed(desk.register(connection_body(NEAR)), hazard=hazard)
    task = visit_task_uuid(session_factory, case["id"])
    finding = add_finding(session_factory, task)
    photos = {
        "verified": add_photo(session_factory, storage, kind="task", ref=task, seed=11, captured_at=TAKEN,
                              distance_m=3.25),
        "suspicious": add_photo(session_factory, storage, kind="finding", ref=finding, seed=12, state="suspicious",
                                captured_at=TAKEN.replace(hour=7), distance_m=212.4,
                                reasons=[{"code": "location", "message": "212 m from the asset"}]),
        "rejected": add_photo(session_factory, storage, kind="task", ref=task, seed=13, state="rejected",
                              captured_at=TAKEN, reasons=[{"code": "type", "message": "not an image"}]),
        "deleted": add_photo(session_factory, storage, kind="case", ref=str(case["id"]), seed=14, state="deleted",
                             captured_at=TAKEN, deleted=True),
    }
    return case, photos


def test_the_case_page_lists_its_verified_and_suspicious_photos_for_every_reader(
        desk: Desk, session_factory: sessionmaker[Session], storage: ObjectStorage) -> None:
    case, photos = surveyed_with_photos(desk, session_factory, storage)

    for reader in ("approver", "inspector", "auditor"):
        evidence = desk.get(case, by=reader)["evidence"]
        assert [e["id"] for e in evidence] == [photos["verified"], photos["suspicious"]]
    verified, suspicious = desk.get(case)["evidence"]
    assert verified["state"] == "verified" and verified["distance_m"] == 3.25
    assert datetime.fromisoformat(verified["captured_at"]) == TAKEN
    assert verified["thumb"] == f"/api/v1/evidence/{photos['verified']}/content?variant=thumb"
    assert verified["large"] == f"/api/v1/evidence/{photos['verified']}/content?variant=large"
    assert suspicious["state"] == "suspicious"
    assert suspicious["reasons"] == [{"code": "location", "message": "212 m from the asset"}]


def test_a_page_of_cases_reads_their_photos_in_one_query(desk: Desk, session_factory: sessionmaker[Session],
                                                         storage: ObjectStorage, statements: list[str]) -> None:
    photos = [surveyed_with_photos(desk, session_factory, storage)[1] for _ in range(3)]
    statements.clear()

    response = desk.client.get("/api/v1/cases", headers=desk.people["approver"].headers)

    assert response.status_code == 200
    assert [[e["id"] for e in c["evidence"]] for c in response.json()["items"]] == [
        [p["verified"], p["suspicious"]] for p in photos]
    assert len([s for s in statements if "FROM evidence" in s]) == 1


@pytest.mark.parametrize("language", ["zh", "en"])
def test_a_hazard_notice_prints_the_photos_with_capture_time_distance_and_suspicion(
        desk: Desk, session_factory: sessionmaker[Session], storage: ObjectStorage, language: str) -> None:
    case, _ = surveyed_with_photos(desk, session_factory, storage)

    case = desk.act(case, "issue_hazard_notice", by="approver", language=language, measures=["拆除彩钢棚"])

    _, pdf = desk.document(case)
    text = pdf_text(pdf)
    assert HEADING[language] in text
    assert TAKEN_TEXT[language] in text and "3.25m" in text and "212.40m" in text
    assert SUSPICIOUS[language] in text
    assert image_count(pdf) == 2  # the verified and the suspicious photo; not the rejected nor the deleted one


@pytest.mark.parametrize(("action", "kind"), [("approve_with_clauses", "approval_with_clauses"),
                                              ("refuse", "refusal")])
def test_approvals_and_refusals_print_the_photos_too(desk: Desk, session_factory: sessionmaker[Session],
                                                     storage: ObjectStorage, action: str, kind: str) -> None:
    case, _ = surveyed_with_photos(desk, session_factory, storage, hazard=False)

    case = desk.act(case, action, by="approver", language="en", measures=["No stacking inside the zone"])

    entry, pdf = desk.document(case)
    assert entry["kind"] == kind
    assert HEADING["en"] in pdf_text(pdf) and image_count(pdf) == 2


def test_a_case_without_photos_prints_no_photo_section(desk: Desk) -> None:
    case = desk.surveyed(desk.register(connection_body(NEAR)), hazard=True)

    case = desk.act(case, "issue_hazard_notice", by="approver", language="en", measures=["Remove the shed"])

    _, pdf = desk.document(case)
    assert HEADING["en"] not in pdf_text(pdf) and image_count(pdf) == 0
    assert desk.get(case)["evidence"] == []


def test_only_rejected_or_deleted_photos_print_no_section(desk: Desk, session_factory: sessionmaker[Session],
                                                          storage: ObjectStorage) -> None:
    case = desk.surveyed(desk.register(connection_body(NEAR)), hazard=True)
    task = visit_task_uuid(session_factory, case["id"])
    add_photo(session_factory, storage, kind="task", ref=task, seed=21, state="rejected", captured_at=TAKEN)
    add_photo(session_factory, storage, kind="task", ref=task, seed=22, state="deleted", captured_at=TAKEN,
              deleted=True)

    case = desk.act(case, "issue_hazard_notice", by="approver", language="zh", measures=["拆除"])

    _, pdf = desk.document(case)
    assert HEADING["zh"] not in pdf_text(pdf) and image_count(pdf) == 0


def test_with_storage_down_a_decision_with_photos_is_not_taken(
        desk: Desk, storage_down: Desk, session_factory: sessionmaker[Session], storage: ObjectStorage,
        owner_engine: Engine) -> None:
    case, _ = surveyed_with_photos(desk, session_factory, storage)

    failed = assert_problem(storage_down.act_response(case, "issue_hazard_notice", by="approver",
                                                      measures=["拆除"]), 503)

    assert failed["service"] == "s3"
    assert desk.get(case)["state"] == "surveyed" and count_rows(owner_engine, "decision_documents") == 0


def test_a_document_prints_at_most_six_photos_and_says_how_many_more_the_case_has() -> None:
    photos = [DocumentPhoto(thumbnail=jpeg(n), captured_at=TAKEN, distance_m=4.0, device_position=False)
              for n in range(PHOTO_LIMIT)]

    pdf = render_decision_pdf(make_document(language="en", photos=photos, photos_left_out=3))

    assert image_count(pdf) == PHOTO_LIMIT == 6
    assert "3morephotosareonthecaserecord." in pdf_text(pdf)
