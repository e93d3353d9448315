"""Fixtures for photo evidence: the people (with a second inspector for "someone else's task"),
a task of an inspector (by the uuid its device gave it), an app whose Celery messages go to a queue
of this session's own (so a test can see what was queued without a worker taking it), and small
helpers: declare a photo, PUT bytes to a presigned URL as a phone does, count evidence rows."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from core.permissions import Role
from core.settings import Settings, WorkerSettings
from core.storage import ObjectStorage
from inspections.models import FieldTask
from tests.conftest import Person, sign_in_people
from tests.gis.screening.conftest import HEFEI, point
from tests.inspections.conftest import make_task

UPLOADS = "/api/v1/evidence/uploads"
PROBLEM = "application/problem+json"
# The API's clock in these tests (inside the week of the tasks `make_task` creates).
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
EXTRA_PEOPLE = {"inspector2": (Role.inspector, "")}


@pytest.fixture
def people(settings: Settings, session_factory: sessionmaker[Session], role_users: dict[Role, int]
           ) -> dict[str, Person]:
    """Everyone by short name ("inspector", "auditor", "admin"...) and a second inspector, "inspector2"."""
    return sign_in_people(settings, session_factory, EXTRA_PEOPLE)


def task_of(session_factory: sessionmaker[Session], person: Person) -> str:
    """A line patrol assigned to `person`; the uuid its device knows it by (the evidence link's ref)."""
    task_id = make_task(session_factory, now=NOW, assignee_id=person.id)
    with session_factory() as db:
        return str(db.scalar(select(FieldTask.uuid).where(FieldTask.id == task_id)))


@pytest.fixture
def inspector_task(session_factory: sessionmaker[Session], people: dict[str, Person]) -> str:
    return task_of(session_factory, people["inspector"])


@pytest.fixture
def reported_case(api: TestClient, people: dict[str, Person]) -> int:
    """An encroachment case the inspector reported from a patrol (cases are linked by id); its id."""
    body = {"location": point(HEFEI), "description": "New shed under the line", "site_address": "5 Xingfu Road",
            "responsible_party": "Li Si"}
    response = api.post("/api/v1/cases/encroachments", json=body, headers=people["inspector"].headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


@pytest.fixture(scope="session")
def media_worker_settings() -> WorkerSettings:
    """Queues no worker consumes: what `complete` sends stays there for the test to read."""
    return WorkerSettings(queue=f"media-tests-{uuid.uuid4().hex[:8]}")


@pytest.fixture(scope="session")
def verify_queue(media_worker_settings: WorkerSettings) -> str:
    """The queue a photo check is sent to: the verification kind's (`GW_WORKER_TASK_KINDS`)."""
    return media_worker_settings.queue_of_kind(media_worker_settings.kind_of("media.verify"))


@pytest.fixture(scope="session")
def evidence_app(settings: Settings, owner_engine: Engine, storage: ObjectStorage,
                 media_worker_settings: WorkerSettings) -> FastAPI:
    from api.app import create_app

    return create_app(settings.model_copy(update={"worker": media_worker_settings}))


@pytest.fixture
def api(evidence_app: FastAPI, broker: redis.Redis, verify_queue: str) -> Iterator[TestClient]:
    evidence_app.state.clock = lambda: NOW
    broker.delete(verify_queue)
    with TestClient(evidence_app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def broker(settings: Settings) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(settings.redis.url.get_secret_value())
    yield client
    client.close()


def queued_tasks(broker: redis.Redis, queue: str) -> list[tuple[str, list[Any]]]:
    """(task name, args) of every message waiting in `queue` (Celery's JSON protocol 2 on Redis)."""
    found = []
    for raw in broker.lrange(queue, 0, -1):
        message = json.loads(raw)
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        found.append((message["headers"]["task"], args))
    return found


def declaration(link_ref: str, data: bytes, *, kind: str = "task", **changes: Any) -> dict[str, Any]:
    """A valid POST /evidence/uploads body for `data` attached to a record; keywords change it."""
    body: dict[str, Any] = {"uuid": str(uuid.uuid4()), "link": {"kind": kind, "ref": link_ref},
                            "file_name": "pole-17.jpg", "content_type": "image/jpeg", "size": len(data),
                            "sha256": hashlib.sha256(data).hexdigest(),
                            "captured_at": "2026-12-01T09:30:00+08:00",
                            "position": {"longitude": 117.2272, "latitude": 31.8206, "accuracy_m": 8}}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def put_to(url: str, data: bytes) -> httpx.Response:
    """PUT bytes to a presigned URL, as the phone does (straight to object storage, not the API)."""
    response = httpx.put(url, content=data, timeout=60)
    assert response.status_code == 200, response.text
    return response


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert (response.status_code, response.headers["content-type"]) == (status, PROBLEM), response.text
    body: dict[str, Any] = response.json()
    return body


def evidence_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM evidence")).scalar_one())


def accept_as_the_worker_would(engine: Engine, storage: ObjectStorage, bucket: str, evidence_id: int, data: bytes,
                               *, derived: dict[str, bytes] | None = None) -> str:
    """Store the bytes under their original key and mark the evidence verified, as `media.verify`
    does (without its checks): for tests of what comes after verification. The original's key."""
    sha256 = hashlib.sha256(data).hexdigest()
    key = f"originals/{sha256}"
    storage.put_bytes(bucket=bucket, key=key, data=data, content_type="image/jpeg")
    derived_keys = {}
    for variant, image in (derived or {}).items():
        derived_keys[variant] = f"derived/{sha256}/{variant}.jpg"
        storage.put_bytes(bucket=bucket, key=derived_keys[variant], data=image, content_type="image/jpeg")
    with engine.begin() as conn:
        conn.execute(text("UPDATE evidence SET state = 'verified', sha256 = :sha256, size = :size, "
                          "detected_type = 'jpeg', original_key = :key, derived_keys = CAST(:derived AS jsonb), "
                          "completed_at = now(), verified_at = now() WHERE id = :id"),
                     {"sha256": sha256, "size": len(data), "key": key, "derived": json.dumps(derived_keys),
                      "id": evidence_id})
    return key
