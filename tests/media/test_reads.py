"""Reading evidence (issue 11 §3 "Reading"): who sees a photo is who sees its record; the bytes come
from object storage through a short-lived link (a 307, or the link itself for the console's img
tags), only once the photo is verified; opening an original is audited, a thumbnail is not."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from core.settings import Settings
from core.storage import ObjectStorage
from tests.conftest import Person
from tests.media.conftest import UPLOADS, accept_as_the_worker_would, declaration, problem
from tests.media.photo_factory import make_photo

PHOTO = make_photo(width=320, height=240, seed=4)
THUMB = make_photo(width=80, height=60, seed=5)


def declared(api: TestClient, person: Person, ref: str, data: bytes = PHOTO) -> dict[str, Any]:
    response = api.post(UPLOADS, json=declaration(ref, data), headers=person.headers)
    assert response.status_code == 201, response.text
    return dict(response.json()["evidence"])


def verified(api: TestClient, people: dict[str, Person], task: str, owner_engine: Engine, storage: ObjectStorage,
             settings: Settings) -> int:
    evidence_id = int(declared(api, people["inspector"], task)["id"])
    accept_as_the_worker_would(owner_engine, storage, settings.s3.evidence_bucket, evidence_id, PHOTO,
                               derived={"thumb": THUMB})
    return evidence_id


def content(api: TestClient, person: Person, evidence_id: int, **params: Any) -> httpx.Response:
    return api.get(f"/api/v1/evidence/{evidence_id}/content", params=params, headers=person.headers,
                   follow_redirects=False)


def reads_audited(engine: Engine, evidence_id: int) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(  # type: ignore[misc]
            "SELECT actor_name, after->>'variant' FROM audit_log WHERE action = 'evidence.read_original' "
            "AND entity_type = 'evidence' AND entity_id = :id ORDER BY id"), {"id": str(evidence_id)})]


def test_the_content_of_a_verified_photo_redirects_to_exactly_its_stored_bytes(
    api: TestClient, people: dict[str, Person], inspector_task: str, owner_engine: Engine, storage: ObjectStorage,
    settings: Settings,
) -> None:
    evidence_id = verified(api, people, inspector_task, owner_engine, storage, settings)

    response = content(api, people["inspector"], evidence_id)

    assert response.status_code == 307, response.text
    download = httpx.get(response.headers["location"], timeout=30)
    assert download.status_code == 200 and download.content == PHOTO
    assert download.headers["content-type"] == "image/jpeg"
    assert 'filename="pole-17.jpg"' in download.headers["content-disposition"]


def test_without_redirect_the_link_itself_is_answered_for_the_consoles_img_tags(
    api: TestClient, people: dict[str, Person], inspector_task: str, owner_engine: Engine, storage: ObjectStorage,
    settings: Settings,
) -> None:
    evidence_id = verified(api, people, inspector_task, owner_engine, storage, settings)

    response = content(api, people["dispatcher"], evidence_id, variant="thumb", redirect="false")

    assert response.status_code == 200, response.text
    assert set(response.json()) == {"url", "expires_at"}
    assert httpx.get(response.json()["url"], timeout=30).content == THUMB


def test_who_sees_the_task_sees_its_photos_and_nobody_else(
    api: TestClient, people: dict[str, Person], inspector_task: str, owner_engine: Engine, storage: ObjectStorage,
    settings: Settings,
) -> None:
    evidence_id = verified(api, people, inspector_task, owner_engine, storage, settings)

    assert content(api, people["auditor"], evidence_id).status_code == 307
    assert api.get(f"/api/v1/evidence/{evidence_id}", headers=people["auditor"].headers).status_code == 200
    problem(content(api, people["inspector2"], evidence_id), 404)
    problem(api.get(f"/api/v1/evidence/{evidence_id}", headers=people["inspector2"].headers), 404)
    problem(api.get(f"/api/v1/records/task/{inspector_task}/evidence", headers=people["inspector2"].headers), 404)


def test_opening_an_original_is_audited_and_a_thumbnail_is_not(
    api: TestClient, people: dict[str, Person], inspector_task: str, owner_engine: Engine, storage: ObjectStorage,
    settings: Settings,
) -> None:
    evidence_id = verified(api, people, inspector_task, owner_engine, storage, settings)

    assert content(api, people["auditor"], evidence_id, variant="thumb").status_code == 307
    assert content(api, people["auditor"], evidence_id, variant="original", redirect="false").status_code == 200

    assert reads_audited(owner_engine, evidence_id) == [(people["auditor"].username, "original")]


def test_a_photo_not_verified_or_a_variant_not_made_is_not_served_and_says_why(
    api: TestClient, people: dict[str, Person], inspector_task: str, owner_engine: Engine, storage: ObjectStorage,
    settings: Settings,
) -> None:
    uploading = declared(api, people["inspector"], inspector_task, make_photo(width=320, height=240, seed=6))
    evidence_id = verified(api, people, inspector_task, owner_engine, storage, settings)

    not_verified = problem(content(api, people["inspector"], uploading["id"]), 409)
    not_made = problem(content(api, people["inspector"], evidence_id, variant="large"), 409)

    assert "uploading" in not_verified["detail"]
    assert not_made["variant"] == "large" and "large" in not_made["detail"]
    assert reads_audited(owner_engine, uploading["id"]) == []


def test_a_records_evidence_lists_every_photo_tombstones_included(
    api: TestClient, people: dict[str, Person], inspector_task: str, owner_engine: Engine, storage: ObjectStorage,
    settings: Settings,
) -> None:
    evidence_id = verified(api, people, inspector_task, owner_engine, storage, settings)
    other = declared(api, people["inspector"], inspector_task, make_photo(width=320, height=240, seed=7))
    with owner_engine.begin() as conn:  # as an administrator's deletion leaves it
        conn.execute(text("UPDATE evidence SET state = 'deleted', deleted_at = now(), deletion_reason = 'duplicate' "
                          "WHERE id = :id"), {"id": other["id"]})

    listed = api.get(f"/api/v1/records/task/{inspector_task.upper()}/evidence", headers=people["supervisor"].headers)

    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert [(e["id"], e["state"]) for e in items] == [(evidence_id, "verified"), (other["id"], "deleted")]
    assert items[0]["variants"] == ["original", "thumb"] and items[1]["variants"] == []
    assert items[1]["deletion_reason"] == "duplicate"


def test_a_photo_whose_record_has_not_arrived_is_seen_by_its_uploader_and_administrators_only(
    api: TestClient, people: dict[str, Person],
) -> None:
    evidence = declared(api, people["inspector"], str(uuid.uuid4()))

    seen = {name: api.get(f"/api/v1/evidence/{evidence['id']}", headers=people[name].headers).status_code
            for name in ("inspector", "admin", "dispatcher", "inspector2", "auditor")}

    assert seen == {"inspector": 200, "admin": 200, "dispatcher": 404, "inspector2": 404, "auditor": 404}
