"""The end of evidence: an administrator deletes a photo with a reason (bytes gone, the row kept as
a tombstone, audited), the retention job deletes what is older than the policy, and the clean-up
expires uploads never completed and aborts stale multipart uploads."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from core.audit.models import AuditRecord
from core.celery_app import create_celery
from core.context import Actor
from core.permissions import Role
from core.settings import Settings
from core.storage import ObjectStorage
from media import lifecycle, verification
from media.models import Evidence, EvidenceState
from tests.media.evidence_helpers import create_line_task, photo_near_line, stage, verified, wait_for_row

pytestmark = pytest.mark.usefixtures("celery_worker")
Auth = Callable[[Role], dict[str, str]]


@pytest.fixture
def accepted(session_factory: sessionmaker[Session], storage: ObjectStorage, settings: Settings,
             role_users: dict[Role, int]) -> Callable[[bytes | None], Evidence]:
    """A verified photo of a new line patrol (`data`, or a fresh photo)."""
    now = datetime.now(UTC)

    def make(data: bytes | None = None) -> Evidence:
        task_id, task_uuid = create_line_task(session_factory, now)
        staged = stage(session_factory, storage, settings, data or photo_near_line(now), kind="task", ref=task_uuid,
                       record_id=task_id, uploaded_by=role_users[Role.dispatcher])
        return verified(settings, session_factory, staged.evidence_id)

    return make


def _keys(evidence: Evidence) -> list[str]:
    return [evidence.original_key or "", *evidence.derived_keys.values()]


def _stored(storage: ObjectStorage, settings: Settings, keys: list[str]) -> list[bool]:
    return [storage.stat(bucket=settings.s3.evidence_bucket, key=key) is not None for key in keys]


def test_an_administrator_deletes_evidence_with_a_reason(client: TestClient, auth: Auth, storage: ObjectStorage,
                                                         settings: Settings, session_factory: sessionmaker[Session],
                                                         accepted: Callable[[bytes | None], Evidence]) -> None:
    evidence = accepted(None)
    assert _stored(storage, settings, _keys(evidence)) == [True, True, True]

    response = client.post(f"/api/v1/evidence/{evidence.id}/deletion", json={"reason": "shows a bystander's face"},
                           headers=auth(Role.admin))

    assert response.status_code == 200, response.text
    assert response.json()["state"] == "deleted"
    assert _stored(storage, settings, _keys(evidence)) == [False, False, False]
    with session_factory() as db:
        tombstone = db.get(Evidence, evidence.id)
        assert tombstone is not None
        assert (tombstone.state, tombstone.deletion_reason) == (EvidenceState.deleted, "shows a bystander's face")
        assert tombstone.chain_hash == evidence.chain_hash and tombstone.deleted_at is not None
        audit = db.scalars(select(AuditRecord).where(AuditRecord.action == "evidence.delete")).one()
        assert (audit.entity_id, audit.reason, audit.actor_name) == (str(evidence.id), "shows a bystander's face",
                                                                     "test-admin")


def test_bytes_another_evidence_shares_are_kept_when_one_is_deleted(
        client: TestClient, auth: Auth, storage: ObjectStorage, settings: Settings,
        accepted: Callable[[bytes | None], Evidence]) -> None:
    data = photo_near_line(datetime.now(UTC))
    first, second = accepted(data), accepted(data)

    client.post(f"/api/v1/evidence/{first.id}/deletion", json={"reason": "attached twice"}, headers=auth(Role.admin))

    assert _stored(storage, settings, _keys(second)) == [True, True, True]


def test_bytes_another_upload_of_them_still_waits_for_are_kept_when_one_is_deleted(
        client: TestClient, auth: Auth, storage: ObjectStorage, settings: Settings,
        session_factory: sessionmaker[Session], role_users: dict[Role, int],
        accepted: Callable[[bytes | None], Evidence]) -> None:
    data = photo_near_line(datetime.now(UTC))
    first = accepted(data)
    task_id, task_uuid = create_line_task(session_factory, datetime.now(UTC))
    # The same bytes declared for another record and completed without an upload (they were stored
    # already): its verification will read the original the first one stored.
    waiting = stage(session_factory, storage, settings, data, kind="task", ref=task_uuid, record_id=task_id,
                    uploaded_by=role_users[Role.dispatcher])
    storage.remove(bucket=settings.s3.evidence_bucket, key=waiting.staging_key, all_versions=True)
    with session_factory() as db, db.begin():
        row = db.get(Evidence, waiting.evidence_id)
        assert row is not None
        row.staging_key, row.original_key = None, first.original_key

    client.post(f"/api/v1/evidence/{first.id}/deletion", json={"reason": "attached twice"}, headers=auth(Role.admin))

    assert _stored(storage, settings, _keys(first)) == [True, True, True]
    second = verified(settings, session_factory, waiting.evidence_id)
    assert second.state == EvidenceState.verified
    assert storage.get_bytes(bucket=settings.s3.evidence_bucket, key=second.original_key or "") == data


def test_what_a_verification_stored_for_evidence_deleted_meanwhile_is_removed(
        storage: ObjectStorage, settings: Settings, session_factory: sessionmaker[Session],
        role_users: dict[Role, int]) -> None:
    now = datetime.now(UTC)
    task_id, task_uuid = create_line_task(session_factory, now)
    staged = stage(session_factory, storage, settings, photo_near_line(now), kind="task", ref=task_uuid,
                   record_id=task_id, uploaded_by=role_users[Role.dispatcher])
    bucket = settings.s3.evidence_bucket
    # The worker's attempt has read the bytes and stored the original and derived images ...
    found = verification.inspect(storage=storage, bucket=bucket, max_size_bytes=10_000_000, local_tz=UTC,
                                 upload=verification.Upload(source_key=staged.staging_key, staging_key=staged.staging_key,
                                                            declared_size=len(staged.data),
                                                            declared_sha256=hashlib.sha256(staged.data).hexdigest()))
    written = [found.original_key or "", *found.derived_keys.values()]
    assert _stored(storage, settings, written) == [True, True, True]
    # ... when an administrator deletes the evidence, before the attempt records its outcome.
    with session_factory() as db, db.begin():
        lifecycle.delete_evidence(db=db, actor=Actor.system("tests"), storage=storage, settings=settings,
                                  evidence_id=staged.evidence_id, reason="uploaded by mistake", now=now)
    with session_factory() as db, db.begin():
        removed = lifecycle.discard_unclaimed(db=db, storage=storage, bucket=bucket, sha256=found.sha256 or "",
                                              keys=written, except_id=staged.evidence_id)

    assert removed and _stored(storage, settings, written) == [False, False, False]


@pytest.mark.parametrize("role", [Role.dispatcher, Role.supervisor, Role.inspector, Role.auditor])
def test_only_administrators_delete_evidence(client: TestClient, auth: Auth, role: Role,
                                             accepted: Callable[[bytes | None], Evidence]) -> None:
    evidence = accepted(None)

    response = client.post(f"/api/v1/evidence/{evidence.id}/deletion", json={"reason": "not wanted"},
                           headers=auth(role))

    assert response.status_code == 403


def test_a_deletion_needs_a_reason(client: TestClient, auth: Auth) -> None:
    response = client.post("/api/v1/evidence/1/deletion", json={"reason": ""}, headers=auth(Role.admin))

    assert response.status_code == 422


def test_retention_deletes_evidence_older_than_the_policy(owner_engine: Engine, settings: Settings,
                                                          session_factory: sessionmaker[Session],
                                                          accepted: Callable[[bytes | None], Evidence]) -> None:
    old, recent = accepted(None), accepted(None)
    with owner_engine.begin() as conn:
        conn.execute(text("UPDATE evidence SET verified_at = now() - interval '11 years' WHERE id = :id"),
                     {"id": old.id})

    create_celery(settings).send_task("media.retention")

    done = wait_for_row(session_factory, old.id, until=lambda e: e.state == EvidenceState.deleted)
    assert done.deletion_reason == "retention policy (10 years)"
    with session_factory() as db:
        assert db.scalar(select(Evidence.state).where(Evidence.id == recent.id)) == EvidenceState.verified


def test_retention_deletes_in_batches_each_committed_on_its_own(
        owner_engine: Engine, settings: Settings, storage: ObjectStorage, session_factory: sessionmaker[Session],
        accepted: Callable[[bytes | None], Evidence]) -> None:
    ids = [accepted(None).id for _ in range(3)]
    with owner_engine.begin() as conn:
        conn.execute(text("UPDATE evidence SET verified_at = now() - interval '11 years'"))

    batches = []
    while True:
        with session_factory() as db, db.begin():
            batch = lifecycle.apply_retention(db=db, storage=storage, settings=settings, now=datetime.now(UTC),
                                              limit=2)
        if not batch:
            break
        batches.append(batch)

    assert batches == [ids[:2], ids[2:]]


def _uploading(session_factory: sessionmaker[Session], *, key: str, upload_id: str | None, created_at: datetime,
               uploader: int) -> int:
    with session_factory() as db, db.begin():
        evidence = Evidence(link_kind="task", link_ref=str(uuid.uuid4()), state=EvidenceState.uploading,
                            file_name="IMG.jpg", declared_type="image/jpeg", declared_size=1000,
                            declared_sha256="0" * 64, staging_key=key, multipart_upload_id=upload_id,
                            uploaded_by_id=uploader, created_at=created_at)
        db.add(evidence)
        db.flush()
        return evidence.id


def test_uploads_never_completed_expire_and_their_bytes_and_parts_go(
        session_factory: sessionmaker[Session], storage: ObjectStorage, settings: Settings,
        role_users: dict[Role, int]) -> None:
    bucket, now = settings.s3.evidence_bucket, datetime.now(UTC)
    later = now + timedelta(hours=49)  # beyond abandon_after_hours (48) for everything begun now
    single_key, multi_key, orphan_key = (f"uploads/{uuid.uuid4()}" for _ in range(3))
    storage.put_bytes(bucket=bucket, key=single_key, data=b"half a photo", content_type="image/jpeg")
    multi_id = storage.start_multipart(bucket=bucket, key=multi_key, content_type="image/jpeg")
    orphan_id = storage.start_multipart(bucket=bucket, key=orphan_key, content_type="image/jpeg")
    uploader = role_users[Role.inspector]
    single = _uploading(session_factory, key=single_key, upload_id=None, created_at=now, uploader=uploader)
    multi = _uploading(session_factory, key=multi_key, upload_id=multi_id, created_at=now, uploader=uploader)
    fresh = _uploading(session_factory, key=f"uploads/{uuid.uuid4()}", upload_id=None, created_at=later,
                       uploader=uploader)

    with session_factory() as db, db.begin():
        done = lifecycle.expire_abandoned(db=db, storage=storage, settings=settings, now=later)

    assert sorted(done.expired) == sorted([single, multi])
    assert orphan_key in done.aborted_uploads
    assert storage.stat(bucket=bucket, key=single_key) is None
    for key, upload_id in ((multi_key, multi_id), (orphan_key, orphan_id)):
        assert upload_id not in [u.upload_id for u in storage.open_uploads(bucket=bucket, prefix=key)]
    with session_factory() as db:
        states = {row.id: row.state for row in db.execute(select(Evidence.id, Evidence.state))}
    assert states == {single: EvidenceState.expired, multi: EvidenceState.expired, fresh: EvidenceState.uploading}
