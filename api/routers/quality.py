"""The auditor's random sample of reviewed field work and its grades, at /quality. Thin: one call
into `inspections.quality` per operation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from api.dependencies import DbSession, Now, require
from core.bounds import DbId
from core.context import Actor
from inspections import quality
from inspections.permissions import TASKS_AUDIT
from inspections.quality_schemas import GradeIn, QualityAuditOut, SampleIn, SampleOut

router = APIRouter(prefix="/quality", tags=["field work"])
Auditor = Annotated[Actor, Depends(require(TASKS_AUDIT))]


@router.post("/samples", response_model=SampleOut, status_code=status.HTTP_201_CREATED,
             summary="Draw a random sample of the tasks reviewed in a period")
def draw_sample(body: SampleIn, db: DbSession, actor: Auditor, now: Now) -> SampleOut:
    return SampleOut.of(quality.draw_sample(db=db, actor=actor, now=now, reviewed_from=body.reviewed_from,
                                            reviewed_until=body.reviewed_until, share=body.share, seed=body.seed))


@router.post("/audits/{audit_id}/grade", response_model=QualityAuditOut,
             summary="Grade a sampled task by its defect count (once)")
def grade(audit_id: DbId, body: GradeIn, db: DbSession, actor: Auditor, now: Now) -> QualityAuditOut:
    return QualityAuditOut.model_validate(quality.grade(db=db, actor=actor, now=now, audit_id=audit_id,
                                                        defect_count=body.defect_count, note=body.note))
