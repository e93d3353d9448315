"""Custody of photo evidence: the check of a record's custody chain and an administrator's deletion
of one evidence (issue 11, §3). Thin: one call into `media.custody` / `media.lifecycle` each.

Until the evidence schemas (`media.schemas.EvidenceOut`) are merged, the deletion answers with the
small `DeletedEvidenceOut` below; the lead unifies them at merge."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from api.dependencies import AppSettings, DbSession, Now, Storage, require
from core.bounds import DbId
from core.context import Actor
from media import custody, lifecycle
from media.permissions import EVIDENCE_DELETE, EVIDENCE_READ

Reader = Annotated[Actor, Depends(require(EVIDENCE_READ))]
Deleter = Annotated[Actor, Depends(require(EVIDENCE_DELETE))]

router = APIRouter(tags=["evidence"])


class DeletionIn(BaseModel):
    reason: str = Field(min_length=3, max_length=500, description="Why the evidence is deleted (audited)")


class DeletedEvidenceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    state: str
    sha256: str | None
    deleted_at: datetime | None
    deletion_reason: str | None


class ChainLinkOut(BaseModel):
    kind: str
    ref: str


class BrokenLinkOut(BaseModel):
    seq: int | None
    evidence_id: int
    reason: str = Field(description="hash | previous | sequence")


class ChainCheckOut(BaseModel):
    link: ChainLinkOut
    entries: int
    intact: bool
    first_broken: BrokenLinkOut | None


@router.post("/evidence/{evidence_id:int}/deletion", response_model=DeletedEvidenceOut,
             summary="Delete one evidence with a reason (administrators; the row stays as a tombstone)")
def delete_evidence(evidence_id: DbId, body: DeletionIn, db: DbSession, actor: Deleter, storage: Storage,
                    settings: AppSettings, now: Now) -> DeletedEvidenceOut:
    return DeletedEvidenceOut.model_validate(lifecycle.delete_evidence(
        db=db, actor=actor, storage=storage, settings=settings, evidence_id=evidence_id, reason=body.reason, now=now))


@router.get("/records/{kind}/{ref}/evidence-chain/verify", response_model=ChainCheckOut,
            summary="Recompute a record's custody chain and name its first broken link")
def verify_chain(kind: str, ref: str, db: DbSession, actor: Reader) -> ChainCheckOut:
    check = custody.check_record_chain(db=db, actor=actor, kind=kind, ref=ref)
    broken = check.first_broken
    return ChainCheckOut(link=ChainLinkOut(kind=check.kind, ref=check.ref), entries=check.entries,
                         intact=check.intact,
                         first_broken=BrokenLinkOut(seq=broken.seq, evidence_id=broken.evidence_id,
                                                    reason=broken.reason) if broken else None)
