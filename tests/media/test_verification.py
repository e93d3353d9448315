"""The evidence worker, end to end through the real Celery worker and S3: a completed upload is
measured, typed, read, located against its record and timed, its derived images made and its
original stored once under its content address (issue 11, §2 and §3)."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PIL import Image
from sqlalchemy.orm import Session, sessionmaker

from core.celery_app import create_celery
from core.permissions import Role
from core.settings import Settings
from core.storage import ObjectStorage
from media.models import Evidence, EvidenceState
from tests.media.evidence_helpers import (
    LINE_MIDDLE,
    Staged,
    codes,
    create_line_task,
    photo_near_line,
    stage,
    verified,
    wait_for_row,
)
from tests.media.photo_factory import point_at, truncated

pytestmark = pytest.mark.usefixtures("celery_worker")

@pytest.fixture
def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class OnTask:
    """Verifies bytes as a photo of a new line patrol (uploaded by the dispatcher, who plans the work)."""

    session_factory: sessionmaker[Session]
    storage: ObjectStorage
    settings: Settings
    uploader: int
    now: datetime

    def __call__(self, data: bytes, *, task: dict[str, Any] | None = None, **staging: Any) -> tuple[Evidence, Staged]:
        task_id, task_uuid = create_line_task(self.session_factory, self.now, **(task or {}))
        staged = stage(self.session_factory, self.storage, self.settings, data, kind="task", ref=task_uuid,
                       record_id=task_id, uploaded_by=self.uploader, **staging)
        return verified(self.settings, self.session_factory, staged.evidence_id), staged


@pytest.fixture
def on_task(session_factory: sessionmaker[Session], storage: ObjectStorage, settings: Settings,
            role_users: dict[Role, int], now: datetime) -> OnTask:
    return OnTask(session_factory, storage, settings, role_users[Role.dispatcher], now)


def test_a_photo_20_m_beside_the_middle_of_a_line_is_verified_measured_to_the_line(on_task: OnTask, now: datetime) -> None:
    evidence, _ = on_task(photo_near_line(now, metres=20))

    assert (evidence.state, evidence.reasons, evidence.position_source) == (EvidenceState.verified, [], "exif")
    assert evidence.distance_m == pytest.approx(20, abs=0.5)
    assert evidence.threshold_m == 50
    assert (evidence.detected_type, evidence.chain_seq) == ("jpeg", 1)
    assert evidence.exif["make"] == "HUAWEI" and evidence.verified_at is not None


def test_a_photo_80_m_from_the_line_is_suspicious_with_distance_and_threshold(on_task: OnTask, now: datetime) -> None:
    evidence, _ = on_task(photo_near_line(now, metres=80))

    assert evidence.state == EvidenceState.suspicious and codes(evidence) == ["location"]
    assert "80 m" in evidence.reasons[0]["message"] and "50 m" in evidence.reasons[0]["message"]
    assert evidence.distance_m == pytest.approx(80, abs=0.5)
    assert evidence.chain_seq == 1, "suspicious evidence is kept and chained, never dropped"


def test_without_exif_gps_the_device_position_is_used_and_flagged(on_task: OnTask, now: datetime) -> None:
    evidence, _ = on_task(photo_near_line(now, metres=None),
                          device_position=point_at(*LINE_MIDDLE, metres=30, bearing_deg=180))

    assert (evidence.state, codes(evidence), evidence.position_source) == (EvidenceState.verified, ["position"],
                                                                            "device")
    assert evidence.distance_m == pytest.approx(30, abs=0.5)


def test_without_any_position_the_evidence_is_suspicious(on_task: OnTask, now: datetime) -> None:
    evidence, _ = on_task(photo_near_line(now, metres=None))

    assert (evidence.state, codes(evidence)) == (EvidenceState.suspicious, ["location"])
    assert "no position" in evidence.reasons[0]["message"]


@pytest.mark.parametrize(("taken_hours", "window_days", "says"), [
    (3, (-1, 7), "in the future"),
    (-30 * 24, (-40, 7), "30 days before the upload"),
    (-1, (-5, -3), "after the task's window"),
])
def test_a_photo_taken_at_the_wrong_time_is_suspicious(on_task: OnTask, now: datetime, taken_hours: int,
                                                 window_days: tuple[int, int], says: str) -> None:
    window = {"due_from": now + timedelta(days=window_days[0]), "due_until": now + timedelta(days=window_days[1])}
    evidence, _ = on_task(photo_near_line(now, taken=now + timedelta(hours=taken_hours)), task=window)

    assert (evidence.state, codes(evidence)) == (EvidenceState.suspicious, ["time"])
    assert says in evidence.reasons[0]["message"]


@pytest.mark.parametrize("kind", ["png", "heic", "webp"])
def test_png_heic_and_webp_photos_are_verified(on_task: OnTask, now: datetime, kind: str) -> None:
    evidence, _ = on_task(photo_near_line(now, kind=kind), declared_type=f"image/{kind}")

    assert (evidence.state, evidence.detected_type, evidence.reasons) == (EvidenceState.verified, kind, [])
    assert evidence.distance_m == pytest.approx(20, abs=0.5)


def test_a_png_declared_as_jpeg_is_accepted_and_typed_by_its_content(on_task: OnTask, now: datetime) -> None:
    evidence, _ = on_task(photo_near_line(now, kind="png"), declared_type="image/jpeg")

    assert (evidence.state, evidence.detected_type, evidence.declared_type) == (EvidenceState.verified, "png",
                                                                                 "image/jpeg")


def _pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" + bytes(random.randrange(256) for _ in range(4000))


@pytest.mark.parametrize(("content", "code"), [
    ("truncated jpeg", "type"),
    ("pdf", "type"),
])
def test_what_is_not_a_readable_photo_is_rejected_and_its_bytes_removed(on_task: OnTask, now: datetime, storage: ObjectStorage,
                                                                        settings: Settings,
                                                                        content, code) -> None:
    data = truncated(photo_near_line(now)) if content == "truncated jpeg" else _pdf()
    evidence, staged = on_task(data)

    assert (evidence.state, codes(evidence)) == (EvidenceState.rejected, [code])
    assert evidence.original_key is None and evidence.chain_seq is None
    assert storage.stat(bucket=settings.s3.evidence_bucket, key=staged.staging_key) is None


def test_bytes_changed_after_the_hash_was_declared_are_rejected_naming_both_hashes(on_task: OnTask, now: datetime) -> None:
    declared = photo_near_line(now)
    changed = bytearray(declared)
    changed[-100] ^= 0xFF
    evidence, _ = on_task(declared, upload=bytes(changed))

    assert (evidence.state, codes(evidence)) == (EvidenceState.rejected, ["integrity"])
    message = evidence.reasons[0]["message"]
    assert evidence.declared_sha256 in message and evidence.sha256 in message
    assert evidence.sha256 != evidence.declared_sha256


def _pixels(storage: ObjectStorage, settings: Settings, key: str) -> Image.Image:
    return Image.open(io.BytesIO(storage.get_bytes(bucket=settings.s3.evidence_bucket, key=key)))


def test_derived_images_are_gps_free_jpegs_and_the_original_is_the_exact_bytes(on_task: OnTask, now: datetime,
        storage: ObjectStorage, settings: Settings) -> None:
    evidence, staged = on_task(photo_near_line(now))
    bucket = settings.s3.evidence_bucket

    assert evidence.original_key == f"originals/{evidence.sha256}"
    assert storage.get_bytes(bucket=bucket, key=evidence.original_key) == staged.data
    assert storage.stat(bucket=bucket, key=staged.staging_key) is None
    for variant, long_edge in (("large", 1280), ("thumb", 320)):
        key = evidence.derived_keys[variant]
        assert key == f"derived/{evidence.sha256}/{variant}.jpg"
        image = _pixels(storage, settings, key)
        assert (image.format, max(image.size)) == ("JPEG", long_edge)
        assert len(image.getexif()) == 0 and not image.getexif().get_ifd(0x8825)


def test_the_same_bytes_twice_are_stored_as_one_original(on_task: OnTask, now: datetime, storage: ObjectStorage,
                                                       settings: Settings) -> None:
    data = photo_near_line(now)
    first, _ = on_task(data)
    second, _ = on_task(data)

    assert first.state == second.state == EvidenceState.verified
    assert first.original_key == second.original_key
    versions = list(storage.client.list_objects(settings.s3.evidence_bucket, prefix=first.original_key,
                                                include_version=True))
    assert len(versions) == 1, "the original is written once, never overwritten"


def test_a_redelivered_verification_changes_nothing(on_task: OnTask, now: datetime, settings: Settings,
                                               session_factory: sessionmaker[Session]) -> None:
    evidence, _ = on_task(photo_near_line(now))

    again = verified(settings, session_factory, evidence.id)

    assert (again.state, again.verify_attempts, again.chain_seq) == (evidence.state, 1, 1)




def test_the_relay_sends_a_completed_upload_whose_message_was_lost(
        session_factory: sessionmaker[Session], storage: ObjectStorage, settings: Settings,
        role_users: dict[Role, int], now: datetime) -> None:
    task_id, task_uuid = create_line_task(session_factory, now)
    # Completed an hour ago, and its message never sent (or lost with a worker).
    staged = stage(session_factory, storage, settings, photo_near_line(now), kind="task", ref=task_uuid,
                   record_id=task_id, uploaded_by=role_users[Role.dispatcher],
                   completed_at=datetime.now(UTC) - timedelta(hours=1))
    just_completed = stage(session_factory, storage, settings, photo_near_line(now), kind="task",
                           ref=task_uuid, record_id=task_id, uploaded_by=role_users[Role.dispatcher])

    resent = create_celery(settings).send_task("media.relay").get(timeout=60)

    assert resent == [staged.evidence_id]  # the one just completed still has its own message on the way
    evidence = wait_for_row(session_factory, staged.evidence_id, until=lambda e: e.state != EvidenceState.pending)
    assert (evidence.state, evidence.verify_attempts) == (EvidenceState.verified, 1)
    assert wait_for_row(session_factory, just_completed.evidence_id, until=lambda e: True).state == "pending"
