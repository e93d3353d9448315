"""A large photo goes up in parts (issue 11 §1): on a poor network a part may be lost; the device
asks which parts arrived, gets fresh URLs for the missing ones only, sends them and completes. The
API refuses to complete while a part is missing and names it."""

from __future__ import annotations

import math
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from core.settings import Settings
from core.storage import ObjectStorage
from media.settings import evidence_settings
from tests.conftest import Person
from tests.media.conftest import UPLOADS, declaration, problem, put_to, queued_tasks
from tests.media.photo_factory import make_photo

ELEVEN_MB = 11 * 1000 * 1000
LARGE_PHOTO = make_photo(width=640, height=480, pad_to_bytes=ELEVEN_MB, seed=2)


def parts(api: TestClient, person: Person, evidence_id: int) -> Any:
    return api.get(f"/api/v1/evidence/{evidence_id}/parts", headers=person.headers)


def test_a_dropped_part_is_listed_as_missing_with_a_fresh_url_and_once_sent_the_upload_completes(
    api: TestClient, people: dict[str, Person], inspector_task: str, settings: Settings, broker: Any,
    verify_queue: str,
) -> None:
    inspector, config = people["inspector"], evidence_settings(settings)
    part_size = config.part_size_bytes
    created = api.post(UPLOADS, json=declaration(inspector_task, LARGE_PHOTO), headers=inspector.headers)
    assert created.status_code == 201, created.text
    evidence_id, upload = created.json()["evidence"]["id"], created.json()["upload"]
    assert upload["multipart"] is True and upload["part_size"] == part_size
    assert upload["part_count"] == math.ceil(len(LARGE_PHOTO) / part_size) == 3
    chunks = {n: LARGE_PHOTO[(n - 1) * part_size:n * part_size] for n in range(1, 4)}
    for part in upload["parts"]:
        if part["part_number"] != 2:  # part 2 is lost on the way
            put_to(part["url"], chunks[part["part_number"]])

    status = parts(api, inspector, evidence_id)
    early = api.post(f"/api/v1/evidence/{evidence_id}/complete", headers=inspector.headers)

    assert status.status_code == 200, status.text
    assert [(p["part_number"], p["size"]) for p in status.json()["received"]] == [(1, part_size),
                                                                                (3, len(chunks[3]))]
    missing = status.json()["missing"]
    assert [p["part_number"] for p in missing] == [2]
    assert problem(early, 409)["missing_parts"] == [2]
    assert queued_tasks(broker, verify_queue) == []

    put_to(missing[0]["url"], chunks[2])
    completed = api.post(f"/api/v1/evidence/{evidence_id}/complete", headers=inspector.headers)

    assert completed.status_code == 202, completed.text
    assert completed.json()["state"] == "pending"
    assert [name for name, _ in queued_tasks(broker, verify_queue)] == ["media.verify"]


def test_the_assembled_object_is_exactly_the_photo(
    api: TestClient, people: dict[str, Person], inspector_task: str, settings: Settings, owner_engine: Engine,
    storage: ObjectStorage,
) -> None:
    inspector, part_size = people["inspector"], evidence_settings(settings).part_size_bytes
    upload = api.post(UPLOADS, json=declaration(inspector_task, LARGE_PHOTO), headers=inspector.headers).json()
    for part in upload["upload"]["parts"]:
        n = part["part_number"]
        put_to(part["url"], LARGE_PHOTO[(n - 1) * part_size:n * part_size])
    assert api.post(f"/api/v1/evidence/{upload['evidence']['id']}/complete",
                    headers=inspector.headers).status_code == 202

    with owner_engine.connect() as conn:
        key = conn.execute(text("SELECT staging_key FROM evidence WHERE id = :id"),
                           {"id": upload["evidence"]["id"]}).scalar_one()
    stored = storage.get_bytes(bucket=settings.s3.evidence_bucket, key=key)
    assert stored == LARGE_PHOTO


def test_only_the_uploader_sees_the_parts_of_an_upload(
    api: TestClient, people: dict[str, Person], inspector_task: str,
) -> None:
    created = api.post(UPLOADS, json=declaration(inspector_task, LARGE_PHOTO), headers=people["inspector"].headers)
    evidence_id = created.json()["evidence"]["id"]

    assert parts(api, people["inspector2"], evidence_id).status_code == 404
    assert parts(api, people["supervisor"], evidence_id).status_code == 403
    assert parts(api, people["admin"], evidence_id).status_code == 200


def test_a_single_put_upload_has_no_parts(api: TestClient, people: dict[str, Person], inspector_task: str) -> None:
    small = make_photo(width=320, height=240, seed=3)
    created = api.post(UPLOADS, json=declaration(inspector_task, small), headers=people["inspector"].headers)

    problem(parts(api, people["inspector"], created.json()["evidence"]["id"]), 409)
