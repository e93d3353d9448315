"""The third level of quality control (DOMAIN.md §5): an auditor draws a random sample of the work
supervisors reviewed in a period and grades each sampled task by its defect count. The share and
the grades are data (`inspections/data/quality.json`); a seed makes a draw reproducible, so anyone
can check that a sample was random and not chosen. Auditors change nothing else.

The draw is not announced (no outbox event: the sample is unannounced); a grade is."""

from __future__ import annotations

import math
import random
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import outbox
from core.audit import service as audit_service
from core.context import Actor
from core.errors import Conflict, InvalidInput, NotFound
from inspections.models import FieldTask, QualityAudit
from inspections.policy import quality_rules
from inspections.workflow import TaskState

ENTITY = "quality_audit"
REVIEWED = (TaskState.approved.value, TaskState.closed.value)
SEED_LIMIT = 2**31  # a seed a person can read out and type back in


@dataclass(frozen=True)
class Sample:
    sample_id: str
    seed: int
    share: float
    candidates: int
    audits: list[QualityAudit]


def draw_sample(*, db: Session, actor: Actor, now: datetime, reviewed_from: datetime, reviewed_until: datetime,
                share: float | None = None, seed: int | None = None) -> Sample:
    """Sample `share` (default quality.json's) of the tasks approved or closed whose review fell in
    [reviewed_from, reviewed_until) and not sampled before: at least one when there are any."""
    if reviewed_from >= reviewed_until:
        raise InvalidInput("The period ends before it starts.", errors=[{"field": "reviewed_until",
                                                                       "message": "before reviewed_from"}])
    share = quality_rules().default_share if share is None else share
    seed = secrets.randbelow(SEED_LIMIT) if seed is None else seed
    # Two auditors drawing at once take turns, so no task is sampled twice.
    db.execute(select(func.pg_advisory_xact_lock(func.hashtextextended("quality-sample", 0))))
    ids = list(db.scalars(select(FieldTask.id).where(
        FieldTask.state.in_(REVIEWED), FieldTask.reviewed_at >= reviewed_from, FieldTask.reviewed_at < reviewed_until,
        ~select(QualityAudit.id).where(QualityAudit.task_id == FieldTask.id).exists()).order_by(FieldTask.id)))
    size = min(len(ids), max(1, math.ceil(share * len(ids)))) if ids else 0
    chosen = sorted(random.Random(seed).sample(ids, size))
    sample_id = f"QS-{now:%Y%m%dT%H%M%S}-{seed}"
    audits = [QualityAudit(task_id=task_id, sampled_at=now, sample_id=sample_id) for task_id in chosen]
    db.add_all(audits)
    db.flush()
    audit_service.record(db=db, actor=actor, action="quality.sample", entity_type=ENTITY, entity_id=sample_id,
                         before=None, after={"reviewed_from": reviewed_from.isoformat(),
                                             "reviewed_until": reviewed_until.isoformat(), "share": share,
                                             "seed": seed, "candidates": len(ids), "task_ids": chosen})
    return Sample(sample_id=sample_id, seed=seed, share=share, candidates=len(ids), audits=audits)


def grade(*, db: Session, actor: Actor, now: datetime, audit_id: int, defect_count: int,
          note: str | None = None) -> QualityAudit:
    """Grade a sampled task by its defect count (quality.json); a grade is given once."""
    audit = db.get(QualityAudit, audit_id, with_for_update=True)
    if audit is None:
        raise NotFound(f"No quality audit with id {audit_id}.")
    if audit.grade is not None:
        raise Conflict(f"Quality audit {audit_id} was graded {audit.grade} already; a grade is not changed.")
    audit.defect_count, audit.grade, audit.note = defect_count, quality_rules().grade_for(defect_count), note
    audit.graded_by_id, audit.graded_at = actor.user_id, now
    db.flush()
    after = {"task_id": audit.task_id, "sample_id": audit.sample_id, "defect_count": defect_count,
             "grade": audit.grade, "note": note}
    audit_service.record(db=db, actor=actor, action="quality.grade", entity_type=ENTITY, entity_id=audit.id,
                         before=None, after=after)
    outbox.emit(db=db, event_type="quality_audit.graded", entity_type=ENTITY, entity_id=audit.id, payload=after)
    return audit
