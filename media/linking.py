"""A device's record arriving after its photos: the waiting evidence is linked, the uploader's right
to attach to that record checked, and an evidence already inspected is assessed at once, all in the
transaction that creates the record (called from the domains' event handlers below, declared in
`inspections/domain.py`). A photo is never lost because its record arrived later (issue 11).
"""

from __future__ import annotations

from datetime import UTC, datetime

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


def on_task_created(*, db: Session, event: OutboxEvent) -> None:
    task = db.get(FieldTask, int(event.entity_id))
    if task is not None:
        record_arrived(db=db, kind="task", ref=str(task.uuid))


def on_finding_reported(*, db: Session, event: OutboxEvent) -> None:
    finding = db.get(Finding, int(event.entity_id))
    if finding is not None:
        record_arrived(db=db, kind="finding", ref=str(finding.uuid))


def on_reading_recorded(*, db: Session, event: OutboxEvent) -> None:
    reading = db.get(MeterReading, int(event.entity_id))
    if reading is not None:
        record_arrived(db=db, kind="reading", ref=str(reading.uuid))
