"""Custody of photo evidence: the check of a record's custody chain and an administrator's deletion
of one evidence (issue 11, §3). Thin: one call into `media.custody` / `media.lifecycle` each."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from api.dependencies import AppSettings, DbSession, Now, Storage, require
from core.bounds import DbId
from core.context import Actor
from media import custody, lifecycle, reads
from media.permissions import EVIDENCE_DELETE, EVIDENCE_READ
from media.schemas import LINK_KIND_MAX, LINK_REF_MAX, ChainCheckOut, DeletionIn, EvidenceOut

Reader = Annotated[Actor, Depends(require(EVIDENCE_READ))]
Deleter = Annotated[Actor, Depends(require(EVIDENCE_DELETE))]

router = APIRouter(tags=["evidence"])


@router.post("/evidence/{evidence_id:int}/deletion", response_model=EvidenceOut,
             summary="Delete one evidence with a reason (administrators; the row stays as a tombstone)")
def delete_evidence(evidence_id: DbId, body: DeletionIn, db: DbSession, actor: Deleter, storage: Storage,
                    settings: AppSettings, now: Now) -> EvidenceOut:
    return reads.present(db=db, evidence=lifecycle.delete_evidence(
        db=db, actor=actor, storage=storage, settings=settings, evidence_id=evidence_id, reason=body.reason, now=now))


@router.get("/records/{kind}/{ref}/evidence-chain/verify", response_model=ChainCheckOut,
            summary="Recompute a record's custody chain and name its first broken link")
def verify_chain(kind: Annotated[str, Path(max_length=LINK_KIND_MAX)],
                 ref: Annotated[str, Path(max_length=LINK_REF_MAX)], db: DbSession, actor: Reader) -> ChainCheckOut:
    return custody.check_record_chain(db=db, actor=actor, kind=kind, ref=ref)
