"""Declaring a photo and sending it in one PUT (issue 11 §1): the device asks, PUTs the bytes
straight to object storage and says it is done; the evidence then waits for verification. Every
declaration can be repeated safely, and every refusal leaves no row behind."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from core.settings import Settings
from core.storage import ObjectStorage
from tests.conftest import Person
from tests.faults.conftest import free_port
from tests.media.conftest import (
    UPLOADS,
    accept_as_the_worker_would,
    declaration,
    evidence_rows,
    problem,
    put_to,
    queued_tasks,
    task_of,
)
from tests.media.photo_factory import make_photo

PHOTO = make_photo(width=320, height=240, seed=1)


def declare(api: TestClient, person: Person, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
    response = api.post(UPLOADS, json=body, headers=person.headers)
    assert response.status_code == status, response.text
    return dict(response.json())


def complete(api: TestClient, person: Person, evidence_id: int) -> Any:
    return api.post(f"/api/v1/evidence/{evidence_id}/complete", headers=person.headers)


def audit_actions(engine: Engine, evidence_id: int) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT action FROM audit_log WHERE entity_type = 'evidence' AND entity_id = :id "
                                      "ORDER BY id"), {"id": str(evidence_id)}).scalars())


def test_a_photo_sent_in_one_put_waits_for_verification_once_completed(
    api: TestClient, people: dict[str, Person], inspector_task: str, owner_engine: Engine, broker: Any,
    verify_queue: str,
) -> None:
    inspector = people["inspector"]
    created = declare(api, inspector, declaration(inspector_task, PHOTO))
    evidence, upload = created["evidence"], created["upload"]
    assert evidence["state"] == "uploading" and evidence["uploaded_by"] == inspector.username
    assert evidence["link"]["kind"] == "task" and evidence["link"]["record_id"] is not None
    assert upload["method"] == "PUT" and "/uploads/" in upload["url"]

    put_to(upload["url"], PHOTO)
    completed = complete(api, inspector, evidence["id"])

    assert completed.status_code == 202, completed.text
    assert completed.json()["state"] == "pending" and completed.json()["completed_at"] is not None
    assert queued_tasks(broker, verify_queue) == [("media.verify", [evidence["id"], completed.headers["X-Request-ID"]])]
    assert audit_actions(owner_engine, evidence["id"]) == ["evidence.create", "evidence.complete"]
    again = complete(api, inspector, evidence["id"])
    assert again.status_code == 200 and again.json()["state"] == "pending"
    assert len(queued_tasks(broker, verify_queue)) == 1  # nothing queued twice


def test_completing_before_the_bytes_arrived_is_refused_and_changes_nothing(
    api: TestClient, people: dict[str, Person], inspector_task: str, broker: Any, verify_queue: str,
) -> None:
    evidence = declare(api, people["inspector"], declaration(inspector_task, PHOTO))["evidence"]

    refused = complete(api, people["inspector"], evidence["id"])

    assert "nothing uploaded yet" in problem(refused, 409)["detail"].lower()
    assert api.get(f"/api/v1/evidence/{evidence['id']}", headers=people["inspector"].headers).json()["state"] \
        == "uploading"
    assert queued_tasks(broker, verify_queue) == []


def test_only_the_uploader_or_an_administrator_completes(
    api: TestClient, people: dict[str, Person], inspector_task: str,
) -> None:
    created = declare(api, people["inspector"], declaration(inspector_task, PHOTO))
    put_to(created["upload"]["url"], PHOTO)
    evidence_id = created["evidence"]["id"]

    assert complete(api, people["inspector2"], evidence_id).status_code == 404  # cannot even see it
    assert complete(api, people["dispatcher"], evidence_id).status_code == 403  # sees the task's photos
    assert complete(api, people["admin"], evidence_id).status_code == 202


def test_the_same_uuid_again_is_the_same_evidence_and_with_other_bytes_a_conflict(
    api: TestClient, people: dict[str, Person], inspector_task: str, owner_engine: Engine,
) -> None:
    body = declaration(inspector_task, PHOTO)
    first = declare(api, people["inspector"], body)

    repeat = declare(api, people["inspector"], body, status=200)
    other_bytes = api.post(UPLOADS, json={**body, "sha256": "ab" * 32}, headers=people["inspector"].headers)

    assert repeat["evidence"]["id"] == first["evidence"]["id"]
    assert repeat["upload"]["method"] == "PUT"  # still uploading: a fresh URL for a device that lost the first
    assert problem(other_bytes, 409)["differs"] == ["sha256"]
    assert evidence_rows(owner_engine) == 1


def test_the_same_declaration_sent_twice_at_once_is_one_evidence(
    api: TestClient, people: dict[str, Person], inspector_task: str, owner_engine: Engine,
) -> None:
    body, start = declaration(inspector_task, PHOTO), threading.Barrier(2)

    def send(_: int) -> Any:
        start.wait(timeout=10)
        return api.post(UPLOADS, json=body, headers=people["inspector"].headers)

    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(pool.map(send, [1, 2]))

    assert sorted(r.status_code for r in responses) == [200, 201], [r.text for r in responses]
    assert responses[0].json()["evidence"]["id"] == responses[1].json()["evidence"]["id"]
    assert evidence_rows(owner_engine) == 1
    assert audit_actions(owner_engine, responses[0].json()["evidence"]["id"]) == ["evidence.create"]


def test_the_same_file_for_the_same_record_twice_is_one_evidence(
    api: TestClient, people: dict[str, Person], inspector_task: str, owner_engine: Engine,
) -> None:
    first = declare(api, people["inspector"], declaration(inspector_task, PHOTO))
    second = declare(api, people["inspector"], declaration(inspector_task, PHOTO, file_name="IMG_0001.jpg"),
                     status=200)

    assert second["evidence"]["id"] == first["evidence"]["id"]
    assert evidence_rows(owner_engine) == 1


def test_a_colleague_sending_the_same_file_for_the_same_record_makes_evidence_of_their_own(
    api: TestClient, people: dict[str, Person], inspector_task: str, owner_engine: Engine,
) -> None:
    mine = declare(api, people["inspector"], declaration(inspector_task, PHOTO))
    theirs = declare(api, people["dispatcher"], declaration(inspector_task, PHOTO))

    assert theirs["evidence"]["id"] != mine["evidence"]["id"]
    assert theirs["evidence"]["uploaded_by"] == people["dispatcher"].username
    assert evidence_rows(owner_engine) == 2


def test_bytes_already_stored_as_verified_evidence_need_no_upload_for_another_record(
    api: TestClient, people: dict[str, Person], session_factory: sessionmaker[Session], owner_engine: Engine,
    storage: ObjectStorage, settings: Settings, broker: Any, verify_queue: str,
) -> None:
    inspector = people["inspector"]
    first_task, second_task = task_of(session_factory, inspector), task_of(session_factory, inspector)
    first = declare(api, inspector, declaration(first_task, PHOTO))["evidence"]
    original = accept_as_the_worker_would(owner_engine, storage, settings.s3.evidence_bucket, first["id"], PHOTO)

    second = declare(api, inspector, declaration(second_task, PHOTO))
    completed = complete(api, inspector, second["evidence"]["id"])

    assert second["upload"] is None and second["evidence"]["id"] != first["id"]
    with owner_engine.connect() as conn:
        keys = conn.execute(text("SELECT staging_key, original_key FROM evidence WHERE id = :id"),
                            {"id": second["evidence"]["id"]}).one()
    assert tuple(keys) == (None, original)
    assert completed.status_code == 202 and completed.json()["state"] == "pending"
    assert [name for name, _ in queued_tasks(broker, verify_queue)] == ["media.verify"]


def test_a_photo_of_a_task_not_yet_on_the_server_waits_for_its_record(
    api: TestClient, people: dict[str, Person],
) -> None:
    created = declare(api, people["inspector"], declaration(str(uuid.uuid4()), PHOTO))

    assert created["evidence"]["link"]["record_id"] is None
    assert created["upload"]["method"] == "PUT"


def test_an_inspector_may_not_attach_photos_to_a_colleagues_task(
    api: TestClient, people: dict[str, Person], inspector_task: str, owner_engine: Engine,
) -> None:
    refused = api.post(UPLOADS, json=declaration(inspector_task, PHOTO), headers=people["inspector2"].headers)

    problem(refused, 403)
    assert evidence_rows(owner_engine) == 0


def test_a_cases_photos_are_attached_by_its_id_by_those_who_work_it(
    api: TestClient, people: dict[str, Person], reported_case: int, owner_engine: Engine,
) -> None:
    reporter = declare(api, people["inspector"], declaration(str(reported_case), PHOTO, kind="case"))
    desk = declare(api, people["dispatcher"], declaration(str(reported_case), make_photo(width=320, seed=8),
                                                          kind="case"))
    stranger = api.post(UPLOADS, json=declaration(str(reported_case), make_photo(width=320, seed=9), kind="case"),
                        headers=people["inspector2"].headers)

    assert reporter["evidence"]["link"] == {"kind": "case", "ref": str(reported_case), "record_id": reported_case}
    assert desk["evidence"]["link"]["record_id"] == reported_case
    problem(stranger, 403)
    assert evidence_rows(owner_engine) == 2


def test_a_case_that_does_not_exist_cannot_have_photos(api: TestClient, people: dict[str, Person],
                                                       owner_engine: Engine) -> None:
    refused = api.post(UPLOADS, json=declaration("999999", PHOTO, kind="case"), headers=people["dispatcher"].headers)

    problem(refused, 404)
    assert evidence_rows(owner_engine) == 0


def test_auditors_look_but_do_not_upload(api: TestClient, people: dict[str, Person], inspector_task: str) -> None:
    problem(api.post(UPLOADS, json=declaration(inspector_task, PHOTO), headers=people["auditor"].headers), 403)


BAD_DECLARATIONS: list[tuple[str, dict[str, Any], int, str | None]] = [
    ("sha256 not hex", {"sha256": "z" * 64}, 422, "sha256"),
    ("sha256 too short", {"sha256": "ab" * 16}, 422, "sha256"),
    ("empty file", {"size": 0}, 422, "size"),
    ("larger than the limit", {"size": 41 * 1024 * 1024}, 413, None),
    ("not a photo type", {"content_type": "application/pdf"}, 422, "content_type"),
    ("a path, not a name", {"file_name": "../../etc/passwd"}, 422, "file_name"),
    ("a Windows path", {"file_name": "C:\\photos\\a.jpg"}, 422, "file_name"),
    ("a control character", {"file_name": "pole\n17.jpg"}, 422, "file_name"),
    ("an empty name", {"file_name": ""}, 422, "file_name"),
    ("a name too long", {"file_name": "a" * 252 + ".jpg"}, 422, "file_name"),
    ("longitude off the globe", {"position": {"longitude": 181, "latitude": 31}}, 422, "position.longitude"),
    ("latitude off the globe", {"position": {"longitude": 117, "latitude": -90.5}}, 422, "position.latitude"),
    ("accuracy beyond reason", {"position": {"longitude": 117, "latitude": 31, "accuracy_m": 10001}}, 422,
     "position.accuracy_m"),
    ("a capture time without offset", {"captured_at": "2026-12-01T09:30:00"}, 422, "captured_at"),
    ("a capture time before 2000", {"captured_at": "1999-12-31T23:00:00Z"}, 422, "captured_at"),
    ("an unknown kind of record", {"link": {"kind": "pole", "ref": "17"}}, 422, "link.kind"),
]


@pytest.mark.parametrize(("change", "status", "field"), [case[1:] for case in BAD_DECLARATIONS],
                         ids=[case[0] for case in BAD_DECLARATIONS])
def test_a_declaration_that_breaks_a_rule_is_refused_naming_the_field_and_writes_nothing(
    api: TestClient, people: dict[str, Person], inspector_task: str, owner_engine: Engine,
    change: dict[str, Any], status: int, field: str | None,
) -> None:
    refused = api.post(UPLOADS, json={**declaration(inspector_task, PHOTO), **change},
                       headers=people["inspector"].headers)

    body = problem(refused, status)
    if field is not None:
        assert field in [e["field"] for e in body["errors"]]
    assert evidence_rows(owner_engine) == 0


def test_a_malformed_task_reference_is_refused_naming_the_ref(api: TestClient, people: dict[str, Person],
                                                              owner_engine: Engine) -> None:
    refused = api.post(UPLOADS, json=declaration("not-a-uuid", PHOTO), headers=people["inspector"].headers)

    assert [e["field"] for e in problem(refused, 422)["errors"]] == ["link.ref"]
    assert evidence_rows(owner_engine) == 0


def test_with_object_storage_down_a_declaration_is_503_with_retry_after_and_writes_nothing(
    settings: Settings, people: dict[str, Person], inspector_task: str, owner_engine: Engine,
) -> None:
    closed = f"127.0.0.1:{free_port()}"  # nothing listens there: every connection is refused
    down = settings.model_copy(update={"s3": settings.s3.model_copy(update={"endpoint": closed})})
    with TestClient(create_app(down), raise_server_exceptions=False) as client:
        refused = client.post(UPLOADS, json=declaration(inspector_task, PHOTO), headers=people["inspector"].headers)

    assert problem(refused, 503)["service"] == "s3"
    assert int(refused.headers["Retry-After"]) > 0
    assert evidence_rows(owner_engine) == 0
