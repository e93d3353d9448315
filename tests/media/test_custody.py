"""The custody chain of a record's photos: every accepted photo is an entry chained to the one
before; the check recomputes it and names the first broken link; a deletion leaves it intact."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from core.permissions import Role
from core.settings import Settings
from core.storage import ObjectStorage
from media.models import Evidence, EvidenceState
from tests.media.evidence_helpers import create_line_task, photo_near_line, stage, verified

pytestmark = pytest.mark.usefixtures("celery_worker")
Auth = Callable[[Role], dict[str, str]]


def _chain_url(task_uuid: str) -> str:
    return f"/api/v1/records/task/{task_uuid}/evidence-chain/verify"


@pytest.fixture
def three_photos(session_factory: sessionmaker[Session], storage: ObjectStorage, settings: Settings,
                 role_users: dict[Role, int]) -> tuple[str, list[Evidence]]:
    """A line patrol with three accepted photos (the last one 80 m away: suspicious, still chained)."""
    now = datetime.now(UTC)
    task_id, task_uuid = create_line_task(session_factory, now)
    found = []
    for metres in (10, 20, 80):
        staged = stage(session_factory, storage, settings, photo_near_line(now, metres=metres), kind="task",
                       ref=task_uuid, record_id=task_id, uploaded_by=role_users[Role.dispatcher])
        found.append(verified(settings, session_factory, staged.evidence_id))
    return task_uuid, found


def test_three_accepted_photos_form_an_intact_chain(client: TestClient, auth: Auth,
                                                    three_photos: tuple[str, list[Evidence]]) -> None:
    task_uuid, photos = three_photos

    response = client.get(_chain_url(task_uuid), headers=auth(Role.dispatcher))

    assert response.status_code == 200, response.text
    assert response.json() == {"link": {"kind": "task", "ref": task_uuid}, "entries": 3, "intact": True,
                               "first_broken": None}
    assert [p.chain_seq for p in photos] == [1, 2, 3]
    assert [p.chain_prev_hash for p in photos[1:]] == [p.chain_hash for p in photos[:2]]
    assert photos[0].chain_prev_hash == "0" * 64
    assert [p.state for p in photos] == [EvidenceState.verified, EvidenceState.verified, EvidenceState.suspicious]


def test_changing_an_entrys_metadata_breaks_the_chain_at_that_seq(client: TestClient, auth: Auth,
                                                                  owner_engine: Engine,
                                                                  three_photos: tuple[str, list[Evidence]]) -> None:
    task_uuid, photos = three_photos
    with owner_engine.begin() as conn:  # someone with database access edits a photo's record
        conn.execute(text("UPDATE evidence SET exif = jsonb_set(exif, '{latitude}', '31.9') WHERE id = :id"),
                     {"id": photos[1].id})

    body = client.get(_chain_url(task_uuid), headers=auth(Role.dispatcher)).json()

    assert body["intact"] is False
    assert body["first_broken"] == {"seq": 2, "evidence_id": photos[1].id, "reason": "hash"}


def test_rewriting_an_entrys_hash_breaks_the_next_link(client: TestClient, auth: Auth, owner_engine: Engine,
                                                       three_photos: tuple[str, list[Evidence]]) -> None:
    task_uuid, photos = three_photos
    with owner_engine.begin() as conn:
        conn.execute(text("UPDATE evidence SET chain_hash = repeat('a', 64) WHERE id = :id"), {"id": photos[0].id})

    body = client.get(_chain_url(task_uuid), headers=auth(Role.dispatcher)).json()

    assert body["first_broken"]["seq"] == 1 and body["first_broken"]["reason"] == "hash"


def test_deleting_evidence_keeps_the_chain_intact(client: TestClient, auth: Auth,
                                                  three_photos: tuple[str, list[Evidence]]) -> None:
    task_uuid, photos = three_photos

    deleted = client.post(f"/api/v1/evidence/{photos[1].id}/deletion", json={"reason": "photo of a bystander"},
                          headers=auth(Role.admin))

    assert deleted.status_code == 200, deleted.text
    assert client.get(_chain_url(task_uuid), headers=auth(Role.dispatcher)).json()["intact"] is True


def test_the_chain_of_a_record_the_caller_may_not_see_is_not_found(client: TestClient, auth: Auth,
                                                                   three_photos: tuple[str, list[Evidence]]) -> None:
    task_uuid, _ = three_photos

    response = client.get(_chain_url(task_uuid), headers=auth(Role.inspector))  # not the task's assignee

    assert response.status_code == 404
