"""Uploading a photo: the device declares it, PUTs the bytes straight to object storage (one PUT,
or parts for a large file) and says it is done; the worker then verifies it (`media.verify`).

The API never carries photo bytes: it hands out presigned URLs to the staging key
`uploads/<evidence uuid>`, never to an original's key, so no client can overwrite stored evidence.
Every step is safe to repeat on a poor network: the same declaration returns the same evidence
(with fresh URLs while it is still uploading), and completing twice queues nothing new.
"""

from __future__ import annotations

import logging
import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery import Celery
from kombu.exceptions import KombuError
from redis.exceptions import RedisError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit import service as audit_service
from core.context import Actor, current_request_id
from core.database import after_commit
from core.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge, PermissionDenied
from core.permissions import Role
from core.settings import Settings
from core.storage import ObjectStorage, UploadedPart
from media import access
from media.models import ACCEPTED_STATES, ENDED_STATES, Evidence, EvidenceState, original_key, staging_key
from media.reads import present
from media.schemas import (
    EvidenceOut,
    MultipartUploadOut,
    PartsOut,
    PartUrlOut,
    PutUploadOut,
    ReceivedPartOut,
    UploadCreatedOut,
)
from media.settings import EvidenceSettings, evidence_settings

logger = logging.getLogger(__name__)

VERIFY_TASK = "media.verify"
# The device's position is stored in the column's own reference system (WGS 84 longitude/latitude).
POSITION_SRID: int = Evidence.__table__.c.device_position.type.srid  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Declaration:
    """What the device says about the photo it is about to upload."""

    kind: str
    ref: str
    file_name: str
    content_type: str
    size: int
    sha256: str
    evidence_uuid: uuid.UUID | None = None
    captured_at: datetime | None = None
    # (longitude, latitude, accuracy in metres or None)
    position: tuple[float, float, float | None] | None = None


def _check_declaration(config: EvidenceSettings, declaration: Declaration) -> None:
    if declaration.content_type not in config.allowed_types:
        raise InvalidInput(f"{declaration.content_type!r} is not an accepted photo type.",
                           errors=[{"field": "content_type", "message": f"one of {config.allowed_types}"}])
    if declaration.size > config.max_size_bytes:
        raise PayloadTooLarge(f"The photo is {declaration.size} bytes; the limit is {config.max_size_bytes}.")


def _changed_fields(evidence: Evidence, *, kind: str, ref: str, declaration: Declaration) -> list[str]:
    declared = {"link.kind": (evidence.link_kind, kind), "link.ref": (evidence.link_ref, ref),
                "sha256": (evidence.declared_sha256, declaration.sha256),
                "size": (evidence.declared_size, declaration.size),
                "content_type": (evidence.declared_type, declaration.content_type)}
    return [name for name, (before, now) in declared.items() if before != now]


def _earlier(db: Session, *, actor: Actor, kind: str, ref: str, declaration: Declaration) -> Evidence | None:
    """The evidence this declaration repeats: the same uuid (409 if declared differently), else the
    same bytes for the same record from the same uploader that may still be accepted (a retry
    without a uuid). A colleague sending the same bytes makes evidence of their own, answering for
    their own photo; the bytes are still stored once."""
    if declaration.evidence_uuid is not None:
        same_uuid = db.scalar(select(Evidence).where(Evidence.uuid == declaration.evidence_uuid))
        if same_uuid is not None:
            changed = _changed_fields(same_uuid, kind=kind, ref=ref, declaration=declaration)
            if same_uuid.uploaded_by_id != actor.user_id:
                changed.append("uuid")
            if changed:
                raise Conflict(f"Upload {declaration.evidence_uuid} was declared differently ({', '.join(changed)}); "
                               "a new photo needs a new uuid.", differs=changed)
            return same_uuid
    return db.scalar(select(Evidence).where(
        Evidence.link_kind == kind, Evidence.link_ref == ref, Evidence.declared_sha256 == declaration.sha256,
        Evidence.uploaded_by_id == actor.user_id, Evidence.state.not_in(ENDED_STATES)).order_by(Evidence.id).limit(1))


def _already_stored(db: Session, *, storage: ObjectStorage, bucket: str, sha256: str) -> str | None:
    """The original key when these bytes are stored as accepted evidence already (no upload needed).
    The stat runs first, and always: with storage down, creation fails before anything is written."""
    key = original_key(sha256)
    if storage.stat(bucket=bucket, key=key) is None:
        return None
    accepted = db.scalar(select(Evidence.id).where(Evidence.sha256 == sha256,
                                                   Evidence.state.in_(ACCEPTED_STATES)).limit(1))
    return key if accepted is not None else None


def _upload_urls(evidence: Evidence, *, storage: ObjectStorage, bucket: str, config: EvidenceSettings,
                 now: datetime) -> PutUploadOut | MultipartUploadOut | None:
    """Fresh presigned URLs for an evidence still waiting for its bytes (signed locally, no request)."""
    if evidence.state != EvidenceState.uploading or evidence.staging_key is None:
        return None
    lifetime = timedelta(seconds=config.upload_url_seconds)
    if evidence.multipart_upload_id is None:
        return PutUploadOut(url=storage.presigned_put(bucket=bucket, key=evidence.staging_key, expires=lifetime),
                            expires_at=now + lifetime)
    count = evidence.part_count or 0
    return MultipartUploadOut(part_size=evidence.part_size or 0, part_count=count,
                              parts=_part_urls(evidence, storage=storage, bucket=bucket, lifetime=lifetime,
                                               numbers=list(range(1, count + 1))),
                              expires_at=now + lifetime)


def _part_urls(evidence: Evidence, *, storage: ObjectStorage, bucket: str, lifetime: timedelta,
               numbers: list[int]) -> list[PartUrlOut]:
    assert evidence.staging_key is not None and evidence.multipart_upload_id is not None
    return [PartUrlOut(part_number=n, url=storage.presigned_part(bucket=bucket, key=evidence.staging_key,
                                                                 upload_id=evidence.multipart_upload_id,
                                                                 part_number=n, expires=lifetime))
            for n in numbers]


def _serialise(db: Session, name: str) -> None:
    """Two declarations of the same record (or uuid), e.g. a device retrying while its first request
    still runs, wait for each other here, so the second finds the first instead of a duplicate."""
    db.execute(select(func.pg_advisory_xact_lock(func.hashtext(name))))


def create_upload(*, db: Session, storage: ObjectStorage, settings: Settings, actor: Actor, now: datetime,
                  declaration: Declaration) -> tuple[UploadCreatedOut, bool]:
    """`POST /evidence/uploads`: the evidence and where to PUT its bytes; True when it was created
    (False: a repeat of an earlier declaration, answered with that evidence)."""
    config, bucket = evidence_settings(settings), settings.s3.evidence_bucket
    _check_declaration(config, declaration)
    kind = declaration.kind
    ref, record = access.record_to_attach(db=db, actor=actor, kind=kind, ref=declaration.ref)
    stored_key = _already_stored(db, storage=storage, bucket=bucket, sha256=declaration.sha256)
    _serialise(db, f"evidence:{kind}:{ref}")
    if declaration.evidence_uuid is not None:
        _serialise(db, f"evidence-uuid:{declaration.evidence_uuid}")
    if (earlier := _earlier(db, actor=actor, kind=kind, ref=ref, declaration=declaration)) is not None:
        upload = _upload_urls(earlier, storage=storage, bucket=bucket, config=config, now=now)
        return UploadCreatedOut(evidence=present(db=db, evidence=earlier), upload=upload), False

    evidence_uuid = declaration.evidence_uuid or uuid.uuid4()
    evidence = Evidence(uuid=evidence_uuid, link_kind=kind, link_ref=ref, state=EvidenceState.uploading,
                        record_id=record.record_id if record else None, linked_at=now if record else None,
                        file_name=declaration.file_name, declared_type=declaration.content_type,
                        declared_size=declaration.size, declared_sha256=declaration.sha256,
                        device_captured_at=declaration.captured_at, uploaded_by_id=actor.user_id, created_at=now,
                        reasons=[], derived_keys={}, exif={}, verify_attempts=0)
    if declaration.position is not None:
        longitude, latitude, evidence.device_accuracy_m = declaration.position
        evidence.device_position = func.ST_SetSRID(func.ST_MakePoint(longitude, latitude), POSITION_SRID)
    if stored_key is not None:
        evidence.original_key = stored_key
    else:
        evidence.staging_key = staging_key(evidence_uuid)
        if declaration.size > config.multipart_threshold_bytes:
            evidence.part_size = config.part_size_bytes
            evidence.part_count = math.ceil(declaration.size / config.part_size_bytes)
            evidence.multipart_upload_id = storage.start_multipart(bucket=bucket, key=evidence.staging_key,
                                                                   content_type=declaration.content_type)
    db.add(evidence)
    db.flush()
    db.refresh(evidence)
    out = present(db=db, evidence=evidence)
    audit_service.record(db=db, actor=actor, action="evidence.create", entity_type="evidence", entity_id=evidence.id,
                         before=None, after=out.model_dump(mode="json"))
    upload = _upload_urls(evidence, storage=storage, bucket=bucket, config=config, now=now)
    return UploadCreatedOut(evidence=out, upload=upload), True


def _own_upload(db: Session, *, actor: Actor, evidence_id: int) -> Evidence:
    """The evidence, locked, if `actor` uploaded it or administers (404 if they cannot see it, else 403)."""
    evidence = access.viewable_evidence(db=db, actor=actor, evidence_id=evidence_id, for_update=True)
    if actor.role is not Role.admin and evidence.uploaded_by_id != actor.user_id:
        raise PermissionDenied(f"Only the uploader of evidence {evidence_id} may do this.")
    return evidence


def _received(evidence: Evidence, *, storage: ObjectStorage, bucket: str) -> list[UploadedPart]:
    assert evidence.staging_key is not None and evidence.multipart_upload_id is not None
    try:
        return storage.uploaded_parts(bucket=bucket, key=evidence.staging_key, upload_id=evidence.multipart_upload_id)
    except NotFound as exc:
        raise Conflict(f"The upload of evidence {evidence.id} is no longer open (abandoned or already "
                       "assembled).") from exc


def _missing(evidence: Evidence, received: list[UploadedPart]) -> list[int]:
    have = {p.part_number for p in received}
    return [n for n in range(1, (evidence.part_count or 0) + 1) if n not in have]


def upload_parts(*, db: Session, storage: ObjectStorage, settings: Settings, actor: Actor, now: datetime,
                 evidence_id: int) -> PartsOut:
    """`GET /evidence/{id}/parts`: what arrived and fresh URLs for what did not (resume after a drop)."""
    config, bucket = evidence_settings(settings), settings.s3.evidence_bucket
    evidence = _own_upload(db, actor=actor, evidence_id=evidence_id)
    if evidence.state != EvidenceState.uploading or evidence.multipart_upload_id is None:
        raise Conflict(f"Evidence {evidence_id} has no parts to send (state {evidence.state}, "
                       f"{'multipart' if evidence.multipart_upload_id else 'a single PUT'}).")
    received = _received(evidence, storage=storage, bucket=bucket)
    lifetime = timedelta(seconds=config.upload_url_seconds)
    return PartsOut(received=[ReceivedPartOut(part_number=p.part_number, size=p.size, etag=p.etag) for p in received],
                    missing=_part_urls(evidence, storage=storage, bucket=bucket, lifetime=lifetime,
                                       numbers=_missing(evidence, received)),
                    expires_at=now + lifetime)


def _assemble(evidence: Evidence, *, storage: ObjectStorage, bucket: str) -> None:
    """Make sure the bytes are in the staging key (409 naming what is missing)."""
    if evidence.staging_key is None:
        return  # the same bytes are stored already: the worker verifies from the original
    if evidence.multipart_upload_id is None:
        if storage.stat(bucket=bucket, key=evidence.staging_key) is None:
            raise Conflict(f"Nothing uploaded yet for evidence {evidence.id}: PUT the bytes first.")
        return
    try:
        received = storage.uploaded_parts(bucket=bucket, key=evidence.staging_key,
                                          upload_id=evidence.multipart_upload_id)
    except NotFound:
        # Assembled by an earlier complete whose commit did not land: the object is there.
        if storage.stat(bucket=bucket, key=evidence.staging_key) is not None:
            return
        raise Conflict(f"The upload of evidence {evidence.id} is no longer open; declare it again.") from None
    if missing := _missing(evidence, received):
        raise Conflict(f"Parts {missing} of evidence {evidence.id} have not arrived (GET its parts for fresh URLs).",
                       missing_parts=missing)
    storage.complete_multipart(bucket=bucket, key=evidence.staging_key, upload_id=evidence.multipart_upload_id,
                               parts=received)


def complete_upload(*, db: Session, storage: ObjectStorage, settings: Settings, celery: Celery, actor: Actor,
                    now: datetime, evidence_id: int) -> tuple[EvidenceOut, bool]:
    """`POST /evidence/{id}/complete`: the bytes are there; the evidence waits for verification
    (True), or it was completed before and is answered as it is now (False, nothing queued)."""
    evidence = _own_upload(db, actor=actor, evidence_id=evidence_id)
    if evidence.state in (EvidenceState.expired, EvidenceState.deleted):
        raise Conflict(f"Evidence {evidence_id} is {evidence.state}; declare the photo again.")
    if evidence.state != EvidenceState.uploading:
        return present(db=db, evidence=evidence), False
    _assemble(evidence, storage=storage, bucket=settings.s3.evidence_bucket)
    evidence.state, evidence.completed_at = EvidenceState.pending, now
    audit_service.record(db=db, actor=actor, action="evidence.complete", entity_type="evidence",
                         entity_id=evidence.id, before={"state": str(EvidenceState.uploading)},
                         after={"state": str(EvidenceState.pending), "completed_at": now.isoformat()})
    after_commit(db, lambda: enqueue_verification(celery=celery, evidence_id=evidence_id))
    return present(db=db, evidence=evidence), True


def enqueue_verification(*, celery: Celery, evidence_id: int) -> bool:
    """Send committed evidence to the worker (an `after_commit` callback). A broker failure does
    not fail the request: the evidence row is pending, and the relay (`media.relay`) sends it."""
    try:
        celery.send_task(VERIFY_TASK, args=[evidence_id, current_request_id()])
    except (KombuError, RedisError, OSError) as exc:
        logger.warning("evidence %s is complete but could not be queued now (%s); the relay will send it",
                       evidence_id, exc.__class__.__name__)
        return False
    return True
