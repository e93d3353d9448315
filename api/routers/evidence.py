"""Photo evidence at /evidence and /records/{kind}/{ref}/evidence: declare an upload, resume a
multipart one, complete it, read evidence and get a short-lived link to its bytes. The device
sends the bytes to object storage itself. Thin: each operation is one call into `media`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status
from fastapi.responses import RedirectResponse

from api.dependencies import AppSettings, CeleryApp, DbSession, Now, Storage, require
from core.bounds import DbId
from core.context import Actor
from media import reads, uploads
from media.permissions import EVIDENCE_READ, EVIDENCE_UPLOAD
from media.schemas import (
    LINK_KIND_MAX,
    LINK_REF_MAX,
    ContentUrlOut,
    EvidenceListOut,
    EvidenceOut,
    PartsOut,
    UploadCreatedOut,
    UploadIn,
    Variant,
)

Reader = Annotated[Actor, Depends(require(EVIDENCE_READ))]
Uploader = Annotated[Actor, Depends(require(EVIDENCE_UPLOAD))]

router = APIRouter(tags=["evidence"])


def _declaration(body: UploadIn) -> uploads.Declaration:
    position = (body.position.longitude, body.position.latitude, body.position.accuracy_m) if body.position else None
    return uploads.Declaration(kind=body.link.kind, ref=body.link.ref, file_name=body.file_name,
                               content_type=body.content_type, size=body.size, sha256=body.sha256,
                               evidence_uuid=body.uuid, captured_at=body.captured_at, position=position)


@router.post("/evidence/uploads", response_model=UploadCreatedOut, status_code=status.HTTP_201_CREATED,
             summary="Declare a photo and get where to PUT it; the same declaration again answers 200")
def create_upload(body: UploadIn, db: DbSession, storage: Storage, settings: AppSettings, actor: Uploader,
                  now: Now, response: Response) -> UploadCreatedOut:
    """`upload` is null when the same bytes are stored already: call complete without sending them."""
    created, is_new = uploads.create_upload(db=db, storage=storage, settings=settings, actor=actor, now=now,
                                            declaration=_declaration(body))
    response.status_code = status.HTTP_201_CREATED if is_new else status.HTTP_200_OK
    return created


@router.get("/evidence/{evidence_id:int}/parts", response_model=PartsOut,
            summary="A multipart upload's received parts, and fresh URLs for the missing ones")
def upload_parts(evidence_id: DbId, db: DbSession, storage: Storage, settings: AppSettings, actor: Uploader,
                 now: Now) -> PartsOut:
    return uploads.upload_parts(db=db, storage=storage, settings=settings, actor=actor, now=now,
                                evidence_id=evidence_id)


@router.post("/evidence/{evidence_id:int}/complete", response_model=EvidenceOut,
             status_code=status.HTTP_202_ACCEPTED,
             summary="The bytes are sent: verification is queued (202); completed before: 200, as it is")
def complete_upload(evidence_id: DbId, db: DbSession, storage: Storage, settings: AppSettings, celery: CeleryApp,
                    actor: Uploader, now: Now, response: Response) -> EvidenceOut:
    evidence, queued = uploads.complete_upload(db=db, storage=storage, settings=settings, celery=celery,
                                               actor=actor, now=now, evidence_id=evidence_id)
    response.status_code = status.HTTP_202_ACCEPTED if queued else status.HTTP_200_OK
    return evidence


@router.get("/evidence/{evidence_id:int}", response_model=EvidenceOut, summary="One evidence")
def get_evidence(evidence_id: DbId, db: DbSession, actor: Reader) -> EvidenceOut:
    return reads.get_evidence(db=db, actor=actor, evidence_id=evidence_id)


@router.get("/records/{kind}/{ref}/evidence", response_model=EvidenceListOut,
            summary="Every evidence of a record, oldest first, deleted ones as tombstones")
def record_evidence(kind: Annotated[str, Path(max_length=LINK_KIND_MAX)], ref: Annotated[str, Path(max_length=LINK_REF_MAX)],
                    db: DbSession, actor: Reader) -> EvidenceListOut:
    return EvidenceListOut(items=reads.record_evidence(db=db, actor=actor, kind=kind, ref=ref))


@router.get("/evidence/{evidence_id:int}/content", response_model=ContentUrlOut,
            responses={307: {"description": "Redirect to a short-lived link to the bytes"}},
            summary="A verified photo's bytes: 307 to a short-lived link, or the link itself (redirect=false)")
def content(evidence_id: DbId, db: DbSession, storage: Storage, settings: AppSettings, actor: Reader, now: Now,
            variant: Annotated[Variant, Query()] = "original",
            redirect: Annotated[bool, Query()] = True) -> ContentUrlOut | RedirectResponse:
    """Opening an original is audited; the derived images (no EXIF) are not."""
    link = reads.content_link(db=db, storage=storage, settings=settings, actor=actor, now=now,
                              evidence_id=evidence_id, variant=variant)
    if redirect:
        return RedirectResponse(link.url, status_code=status.HTTP_307_TEMPORARY_REDIRECT)
    return ContentUrlOut(url=link.url, expires_at=link.expires_at)
