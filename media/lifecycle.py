"""The end of evidence: deletion by an administrator (with a reason), the retention policy, and the
clean-up of uploads never completed (issue 11, §3).

A deletion is a tombstone: the row stays with its chain entry (so the record's custody chain still
verifies) and says who deleted it, when and why; the bytes go, every version of them, unless another
evidence that is not deleted shares them (the same file attached to two records is stored once).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core import outbox
from core.audit import service as audit_service
from core.context import Actor
from core.errors import NotFound
from core.settings import Settings
from core.storage import ObjectStorage
from media.assessment import snapshot
from media.models import ENDED_STATES, Evidence, EvidenceState
from media.settings import evidence_settings

UPLOADS_PREFIX = "uploads/"
DAYS_PER_YEAR = 365.25


def _abort_if_open(storage: ObjectStorage, bucket: str, key: str, upload_id: str) -> bool:
    """Abort a multipart upload that is still open. Listed first: aborting one already completed or
    aborted is an S3 error (NoSuchUpload) that must not stop the clean-up."""
    if not any(u.upload_id == upload_id for u in storage.open_uploads(bucket=bucket, prefix=key)):
        return False
    storage.abort_multipart(bucket=bucket, key=key, upload_id=upload_id)
    return True


def bytes_still_needed(*, db: Session, sha256: str, except_id: int) -> bool:
    """Whether other evidence holds, or may yet hold, the bytes `sha256` names: accepted evidence
    measured so, and evidence still uploading or pending that declared so (its worker may have
    found the original already stored and be about to point at it)."""
    others = select(func.count()).select_from(Evidence).where(
        or_(Evidence.sha256 == sha256, Evidence.declared_sha256 == sha256), Evidence.id != except_id,
        Evidence.state.not_in(ENDED_STATES))
    return bool(db.scalar(others))


def discard_unclaimed(*, db: Session, storage: ObjectStorage, bucket: str, sha256: str, keys: list[str],
                      except_id: int) -> bool:
    """Remove an original and its derived images (every version) unless other evidence needs them."""
    if bytes_still_needed(db=db, sha256=sha256, except_id=except_id):
        return False
    for key in keys:
        storage.remove(bucket=bucket, key=key, all_versions=True)
    return True


def _remove_bytes(*, db: Session, storage: ObjectStorage, bucket: str, evidence: Evidence) -> None:
    if evidence.multipart_upload_id and evidence.staging_key:
        _abort_if_open(storage, bucket, evidence.staging_key, evidence.multipart_upload_id)
    if evidence.staging_key:
        storage.remove(bucket=bucket, key=evidence.staging_key, all_versions=True)
    if evidence.sha256 is None:
        return
    keys = [key for key in (evidence.original_key, *evidence.derived_keys.values()) if key]
    discard_unclaimed(db=db, storage=storage, bucket=bucket, sha256=evidence.sha256, keys=keys,
                      except_id=evidence.id)


def _tombstone(*, db: Session, actor: Actor, storage: ObjectStorage, settings: Settings, evidence: Evidence,
               reason: str, now: datetime) -> Evidence:
    before = snapshot(evidence)
    _remove_bytes(db=db, storage=storage, bucket=settings.s3.evidence_bucket, evidence=evidence)
    evidence.state = EvidenceState.deleted
    evidence.deleted_at, evidence.deleted_by_id, evidence.deletion_reason = now, actor.user_id, reason
    db.flush()
    audit_service.record(db=db, actor=actor, action="evidence.delete", entity_type="evidence", entity_id=evidence.id,
                         before=before, after=snapshot(evidence), reason=reason)
    outbox.emit(db=db, event_type="evidence.deleted", entity_type="evidence", entity_id=evidence.id,
                payload={"link_kind": evidence.link_kind, "link_ref": evidence.link_ref, "reason": reason})
    return evidence


def delete_evidence(*, db: Session, actor: Actor, storage: ObjectStorage, settings: Settings, evidence_id: int,
                    reason: str, now: datetime) -> Evidence:
    """Delete one evidence (an administrator's act; the route checks the permission). Deleting a
    deleted evidence again changes nothing."""
    evidence = db.get(Evidence, evidence_id, with_for_update=True)
    if evidence is None:
        raise NotFound(f"No evidence {evidence_id}.")
    if evidence.state == EvidenceState.deleted:
        return evidence
    return _tombstone(db=db, actor=actor, storage=storage, settings=settings, evidence=evidence, reason=reason,
                      now=now)


@dataclass(frozen=True)
class CleanUp:
    expired: list[int]
    aborted_uploads: list[str]


def expire_abandoned(*, db: Session, storage: ObjectStorage, settings: Settings, now: datetime) -> CleanUp:
    """Uploads not completed within `abandon_after_hours` expire (their parts and staging object are
    removed), and multipart uploads under `uploads/` that old with no uploading evidence are aborted."""
    bucket = settings.s3.evidence_bucket
    cutoff = now - timedelta(hours=evidence_settings(settings).abandon_after_hours)
    stale = db.scalars(select(Evidence).where(Evidence.state == EvidenceState.uploading, Evidence.created_at < cutoff)
                       .order_by(Evidence.id).with_for_update(skip_locked=True)).all()
    for evidence in stale:
        before = snapshot(evidence)
        _remove_bytes(db=db, storage=storage, bucket=bucket, evidence=evidence)
        evidence.state = EvidenceState.expired
        audit_service.record(db=db, actor=Actor.system("evidence clean-up"), action="evidence.expire",
                             entity_type="evidence", entity_id=evidence.id, before=before, after=snapshot(evidence))
    uploading = set(db.scalars(select(Evidence.multipart_upload_id).where(
        Evidence.state == EvidenceState.uploading, Evidence.multipart_upload_id.is_not(None))))
    aborted = []
    for upload in storage.open_uploads(bucket=bucket, prefix=UPLOADS_PREFIX):
        old = upload.initiated_at is not None and upload.initiated_at < cutoff
        if old and upload.upload_id not in uploading and _abort_if_open(storage, bucket, upload.key,
                                                                         upload.upload_id):
            aborted.append(upload.key)
    return CleanUp(expired=[e.id for e in stale], aborted_uploads=aborted)


# Evidence deleted per transaction by the retention job: each deletion also removes objects from S3,
# so a first run over years of photos commits as it goes instead of holding every row locked.
RETENTION_BATCH = 200


def apply_retention(*, db: Session, storage: ObjectStorage, settings: Settings, now: datetime,
                    limit: int = RETENTION_BATCH) -> list[int]:
    """Delete up to `limit` evidence older than `retention_years` (from verification, else
    creation); the caller repeats, one transaction each, until none is left."""
    years = evidence_settings(settings).retention_years
    cutoff = now - timedelta(days=DAYS_PER_YEAR * years)
    due = db.scalars(select(Evidence).where(Evidence.state != EvidenceState.deleted,
                                            func.coalesce(Evidence.verified_at, Evidence.created_at) < cutoff)
                     .order_by(Evidence.id).limit(limit).with_for_update(skip_locked=True)).all()
    actor = Actor.system("evidence retention")
    for evidence in due:
        _tombstone(db=db, actor=actor, storage=storage, settings=settings, evidence=evidence,
                   reason=f"retention policy ({years} years)", now=now)
    return [e.id for e in due]
