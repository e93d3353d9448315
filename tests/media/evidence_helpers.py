"""Evidence as a completed upload leaves it (a pending row, its bytes at `uploads/<uuid>`), made
directly through the ORM and S3 so the worker's tests do not depend on the upload routes; and the
round trip through the real Celery worker (`media.verify` sent by name, the row polled with a deadline).
"""

from __future__ import annotations

import hashlib
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from geoalchemy2 import WKTElement
from sqlalchemy.orm import Session, sessionmaker

from core.celery_app import create_celery
from core.context import Actor
from core.settings import Settings
from core.storage import ObjectStorage
from inspections import service
from inspections.specs import TaskSpec
from inspections.workflow import TaskType
from media.models import Evidence, EvidenceState
from tests.gis.screening.conftest import HEFEI
from tests.media.photo_factory import make_photo, point_at

FINAL = frozenset({EvidenceState.verified, EvidenceState.suspicious, EvidenceState.rejected})
CONTENT_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "heic": "image/heic", "webp": "image/webp"}
# A 2 km line east of Hefei: its middle is 1 km from both vertices, so "near the middle" is only
# near the line itself, never near a vertex.
LINE_START = HEFEI
LINE_END = point_at(*HEFEI, metres=2000, bearing_deg=90)
LINE_MIDDLE = point_at(*HEFEI, metres=1000, bearing_deg=90)
LINE_WKT = f"LINESTRING({LINE_START[0]} {LINE_START[1]}, {LINE_END[0]} {LINE_END[1]})"


CHINA = timezone(timedelta(hours=8))
NORTH = 0.0


def create_line_task(session_factory: sessionmaker[Session], now: datetime, **changes: Any) -> tuple[int, str]:
    """A line patrol along the 2 km line, due from a day before `now` to a week after: (id, uuid)."""
    fields: dict[str, Any] = {"task_type": TaskType.line_patrol, "title": "Patrol the 2 km line",
                              "due_from": now - timedelta(days=1), "due_until": now + timedelta(days=7),
                              "location_wkt": LINE_WKT}
    fields.update(changes)
    with session_factory() as db, db.begin():
        task = service.create_task(db=db, actor=Actor.system("tests"), now=now, spec=TaskSpec(**fields))
        return task.id, str(task.uuid)


def photo_near_line(now: datetime, *, metres: float | None = 20, kind: str = "jpeg",
                    taken: datetime | None = None) -> bytes:
    """A photo taken an hour before `now` (Beijing time, with its offset) `metres` north of the
    line's middle (None: no GPS), with pixels of its own (a fresh SHA-256)."""
    gps = point_at(*LINE_MIDDLE, metres=metres, bearing_deg=NORTH) if metres is not None else None
    moment = (taken or now - timedelta(hours=1)).astimezone(CHINA)
    return make_photo(kind, captured_at=moment, offset="+08:00", gps=gps, accuracy_m=5,
                      seed=random.randrange(1 << 30))


@dataclass(frozen=True)
class Staged:
    evidence_id: int
    staging_key: str
    data: bytes


def stage(session_factory: sessionmaker[Session], storage: ObjectStorage, settings: Settings, data: bytes, *,
          kind: str, ref: str, uploaded_by: int, record_id: int | None = None, declared_type: str = "image/jpeg",
          declared_sha256: str | None = None, device_captured_at: datetime | None = None,
          device_position: tuple[float, float] | None = None, upload: bytes | None = None,
          completed_at: datetime | None = None) -> Staged:
    """A pending evidence declaring `data` (or `declared_sha256`), with `upload` (default: `data`)
    stored at its staging key, as after `POST complete` (`completed_at`, default now)."""
    evidence_uuid = uuid.uuid4()
    key = f"uploads/{evidence_uuid}"
    storage.put_bytes(bucket=settings.s3.evidence_bucket, key=key, data=upload if upload is not None else data,
                      content_type=declared_type)
    with session_factory() as db, db.begin():
        evidence = Evidence(uuid=evidence_uuid, link_kind=kind, link_ref=ref, record_id=record_id,
                            state=EvidenceState.pending, file_name=f"IMG_{evidence_uuid.hex[:8]}.jpg",
                            declared_type=declared_type, declared_size=len(data),
                            declared_sha256=declared_sha256 or hashlib.sha256(data).hexdigest(),
                            device_captured_at=device_captured_at,
                            device_position=(WKTElement(f"POINT({device_position[0]} {device_position[1]})", srid=4326)
                                             if device_position else None),
                            staging_key=key, uploaded_by_id=uploaded_by,
                            completed_at=completed_at or datetime.now(UTC))
        db.add(evidence)
        db.flush()
        return Staged(evidence_id=evidence.id, staging_key=key, data=data)


def send_verify(settings: Settings, evidence_id: int) -> None:
    create_celery(settings).send_task("media.verify", args=[evidence_id, None])


def wait_for_row(session_factory: sessionmaker[Session], evidence_id: int, *, until: Any,
                 timeout_s: float = 60) -> Evidence:
    """Poll the evidence until `until(row)` holds, or fail with its last state."""
    deadline = time.monotonic() + timeout_s
    while True:
        with session_factory() as db:
            evidence = db.get(Evidence, evidence_id)
            assert evidence is not None
            db.expunge(evidence)
        if until(evidence):
            return evidence
        if time.monotonic() > deadline:
            raise AssertionError(f"evidence {evidence_id} still {evidence.state} after {timeout_s} s "
                                 f"(attempts {evidence.verify_attempts}, last error {evidence.last_error!r})")
        time.sleep(0.1)


def verified(settings: Settings, session_factory: sessionmaker[Session], evidence_id: int,
             timeout_s: float = 60) -> Evidence:
    """Send `media.verify` to the worker and wait for the outcome."""
    send_verify(settings, evidence_id)
    return wait_for_row(session_factory, evidence_id, until=lambda e: e.state in FINAL, timeout_s=timeout_s)


def codes(evidence: Evidence) -> list[str]:
    return [reason["code"] for reason in evidence.reasons]
