"""A device's record arriving after its photos: the waiting evidence is linked, the uploader's right
to attach to that record checked, and an evidence already inspected is assessed at once, all in the
transaction that creates the record (called from the domains' event handlers below, declared in
`inspections/domain.py`). A photo is never lost because its record arrived later (issue 11).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.context import Actor
from core.outbox import OutboxEvent
from core.users.models import User
from inspections.models import FieldTask, Finding
from inspections.readings.models import MeterReading
from media import assessment
from media.access import provider_for
from media.links import LinkedRecord
from media.models import Evidence, EvidenceState

# States in which an evidence still waits for its record (the others are final or gone).
WAITING = (EvidenceState.uploading, EvidenceState.pending)


def _uploader(db: Session, evidence: Evidence) -> Actor | None:
    user = db.get(User, evidence.uploaded_by_id) if evidence.uploaded_by_id is not None else None
    return Actor(user_id=user.id, username=user.username, role=user.role) if user else None


def link(*, db: Session, evidence: Evidence, record: LinkedRecord, now: datetime) -> None:
    """Give an evidence its record; reject it (`link`) when its uploader may not attach to it, and
    assess it when it has already been inspected."""
    evidence.record_id, evidence.linked_at = record.record_id, now
    uploader = _uploader(db, evidence)
    provider = provider_for(record.kind)
    if uploader is None or not provider.may_attach(db=db, actor=uploader, record=record):
        assessment.reject(db=db, evidence=evidence, reasons=[{
            "code": "link", "message": f"the uploader may not attach photos to {record.kind} {record.ref}"}])
        return
    if evidence.state == EvidenceState.pending and evidence.sha256 is not None:
        assessment.assess(db=db, evidence=evidence, record=record, now=now)


def record_arrived(*, db: Session, kind: str, ref: str) -> list[int]:
    """Link every evidence waiting for (kind, ref); the ids of those linked. Most records arrive with
    no photo waiting: that is one indexed look-up, and the record itself is read only when needed."""
    waiting = db.scalars(select(Evidence).where(Evidence.link_kind == kind, Evidence.link_ref == ref,
                                                Evidence.record_id.is_(None), Evidence.state.in_(WAITING))
                         .order_by(Evidence.id).with_for_update()).all()
    record = provider_for(kind).find(db=db, ref=ref) if waiting else None
    if record is None:
        return []
    now = datetime.now(UTC)
    for evidence in waiting:
        link(db=db, evidence=evidence, record=record, now=now)
    return [evidence.id for evidence in waiting]


# The records a device makes with a uuid of its own; the event announcing one names its primary key.
DeviceRecord = TypeVar("DeviceRecord", FieldTask, Finding, MeterReading)


def arrival_handler(model: type[DeviceRecord], kind: str) -> Callable[..., None]:
    """An event handler linking the photos waiting for the record the event announces."""
    def on_arrival(*, db: Session, event: OutboxEvent) -> None:
        record = db.get(model, int(event.entity_id))
        if record is not None:
            record_arrived(db=db, kind=kind, ref=str(record.uuid))

    return on_arrival


on_task_created = arrival_handler(FieldTask, "task")
on_finding_reported = arrival_handler(Finding, "finding")
on_reading_recorded = arrival_handler(MeterReading, "reading")
