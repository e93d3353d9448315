"""Evidence rows as verification leaves them, written straight through the ORM: tests of what is
shown of a case's photos (its page, its decision documents) need photos in a known final state,
not the upload and verification that put them there (`tests/media/test_uploads.py`, ...).

A verified photo's thumbnail is a real JPEG stored where the worker stores it
(`derived/<sha256>/thumb.jpg`), so documents can print it."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.storage import ObjectStorage
from inspections.models import FieldTask, Finding
from media.access import provider_for
from media.models import Evidence
from tests.media.photo_factory import make_photo

THUMB_SIZE = (320, 240)


def jpeg(seed: int, size: tuple[int, int] = THUMB_SIZE) -> bytes:
    """A JPEG whose bytes differ with `seed`, without EXIF, as the worker's derived images are."""
    return make_photo(width=size[0], height=size[1], make=None, model=None, orientation=None, seed=seed)


def add_photo(session_factory: sessionmaker[Session], storage: ObjectStorage | None, *, kind: str, ref: str,
              seed: int, state: str = "verified", captured_at: datetime | None = None,
              device_captured_at: datetime | None = None, distance_m: float | None = 12.5,
              reasons: list[dict[str, Any]] | None = None, position_source: str = "exif",
              deleted: bool = False) -> int:
    """An evidence row of record (`kind`, `ref`) in `state`, linked to the record when it exists, with
    its thumbnail in S3 when `storage` is given; returns its id. `captured_at` is the EXIF time, `device_captured_at` the device's."""
    original = jpeg(seed, (1600, 1200))
    sha256 = hashlib.sha256(original).hexdigest()
    derived: dict[str, str] = {}
    if storage is not None:
        for variant, size in (("thumb", THUMB_SIZE), ("large", (1280, 960))):
            key = f"derived/{sha256}/{variant}.jpg"
            storage.put_bytes(bucket=storage.settings.evidence_bucket, key=key, data=jpeg(seed, size),
                              content_type="image/jpeg")
            derived[variant] = key
    exif: dict[str, Any] = {"width": 1600, "height": 1200}
    if captured_at is not None:
        exif["captured_at"] = captured_at.isoformat()
    with session_factory() as db, db.begin():
        record = provider_for(kind).find(db=db, ref=ref)
        evidence = Evidence(
            link_kind=kind, link_ref=ref, record_id=record.record_id if record else None,
            linked_at=datetime.now().astimezone() if record else None, state=state, reasons=reasons or [],
            file_name=f"IMG_{seed:04d}.jpg", declared_type="image/jpeg", declared_size=len(original),
            declared_sha256=sha256, device_captured_at=device_captured_at, original_key=f"originals/{sha256}",
            derived_keys=derived, size=len(original), sha256=sha256, detected_type="jpeg", exif=exif,
            position_source=position_source, distance_m=distance_m, threshold_m=50.0,
            deleted_at=datetime.now().astimezone() if deleted else None)
        db.add(evidence)
        db.flush()
        return evidence.id


def visit_task_uuid(session_factory: sessionmaker[Session], case_id: int) -> str:
    """The uuid of the case's (one) site-visit task, as a device links photos to it."""
    with session_factory() as db:
        return str(db.scalars(select(FieldTask.uuid).where(FieldTask.case_id == case_id)).one())


def add_finding(session_factory: sessionmaker[Session], task_uuid: str) -> str:
    """A finding recorded on the task at the task's location; returns its uuid."""
    with session_factory() as db, db.begin():
        task = db.scalars(select(FieldTask).where(FieldTask.uuid == task_uuid)).one()
        finding = Finding(task_id=task.id, severity="major", category="encroachment", geom=task.location,
                          reported_at=datetime.now().astimezone())
        db.add(finding)
        db.flush()
        return str(finding.uuid)
