"""The evidence worker's Celery tasks. Each takes ids, opens its own units of work and holds no row
lock while it talks to S3: the row is read, the object inspected, and the outcome written in a new
transaction that first re-checks, under the row's lock, that the evidence is still pending.

Delivery is at least once and storage may be down: `media.verify` does nothing for an evidence that
is no longer waiting for inspection, and retries with exponential backoff (capped at
`verify_retry_max_seconds`) without limit while storage is unavailable, so a completed upload is
never lost; `media.relay` re-sends what a lost message or worker left pending.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from celery import Task, shared_task
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.context import bind_request_id
from core.database import unit_of_work
from core.errors import ServiceUnavailable
from core.storage import ObjectStorage
from core.worker_resources import resources
from inspections.policy import local_timezone
from media import assessment, lifecycle, linking, verification
from media.access import provider_for
from media.models import Evidence, EvidenceState, original_key
from media.settings import evidence_settings

logger = logging.getLogger(__name__)
# The backoff doubles from 1 s; past this many doublings the cap (`verify_retry_max_seconds`) applies anyway.
MAX_DOUBLINGS = 20


@cache
def _versioning_on(storage: ObjectStorage, bucket: str) -> bool:
    """Once per worker process (a failure is not cached: the next attempt asks again)."""
    return storage.enable_versioning(bucket)


@dataclass(frozen=True)
class Attempt:
    upload: verification.Upload
    number: int


def _begin(db: Session, evidence_id: int, now: datetime) -> Attempt | None:
    evidence = db.get(Evidence, evidence_id, with_for_update=True)
    if evidence is None or evidence.state != EvidenceState.pending or evidence.sha256 is not None:
        return None
    evidence.verify_attempts += 1
    evidence.last_attempt_at = now
    source = evidence.staging_key or evidence.original_key or original_key(evidence.declared_sha256)
    return Attempt(upload=verification.Upload(source_key=source, staging_key=evidence.staging_key,
                                              declared_size=evidence.declared_size,
                                              declared_sha256=evidence.declared_sha256),
                   number=evidence.verify_attempts)


DECIDED_ELSEWHERE = "decided elsewhere"


def _finish(db: Session, evidence_id: int, found: verification.Inspection, now: datetime) -> str:
    evidence = db.get(Evidence, evidence_id, with_for_update=True)
    if evidence is None or evidence.state != EvidenceState.pending or evidence.sha256 is not None:
        return DECIDED_ELSEWHERE
    evidence.size, evidence.sha256, evidence.detected_type = found.size, found.sha256, found.detected_type
    evidence.exif, evidence.last_error = found.exif, None
    if found.original_key:
        evidence.original_key, evidence.derived_keys = found.original_key, found.derived_keys
    if found.reasons:
        assessment.reject(db=db, evidence=evidence, reasons=found.reasons)
        return str(evidence.state)
    record = provider_for(evidence.link_kind).find(db=db, ref=evidence.link_ref)
    if record is None:
        db.flush()
        return "waiting for its record"
    if evidence.record_id is None:
        linking.link(db=db, evidence=evidence, record=record, now=now)
    else:
        assessment.assess(db=db, evidence=evidence, record=record, now=now)
    return str(evidence.state)


def _note_error(db: Session, evidence_id: int, error: str) -> None:
    evidence = db.get(Evidence, evidence_id, with_for_update=True)
    if evidence is not None:
        evidence.last_error = error


@shared_task(name="media.verify", bind=True, acks_late=True, max_retries=None)
def verify(self: Task[Any, Any], evidence_id: int, request_id: str | None = None) -> str:
    """Inspect a completed upload and, when its record is there, assess it."""
    bind_request_id(request_id)
    res = resources()
    limits = evidence_settings(res.settings)
    bucket = res.settings.s3.evidence_bucket
    with unit_of_work(res.session_factory) as db:
        attempt = _begin(db, evidence_id, datetime.now(UTC))
    if attempt is None:
        return "nothing to do"
    try:
        _versioning_on(res.storage, bucket)
        found = verification.inspect(storage=res.storage, bucket=bucket, upload=attempt.upload,
                                     max_size_bytes=limits.max_size_bytes, local_tz=local_timezone())
    except ServiceUnavailable as exc:
        with unit_of_work(res.session_factory) as db:
            _note_error(db, evidence_id, f"storage unavailable: {exc.detail}")
        wait = min(2 ** min(attempt.number - 1, MAX_DOUBLINGS), limits.verify_retry_max_seconds)
        logger.warning("evidence %s: storage unavailable (attempt %d), retry in %d s", evidence_id,
                       attempt.number, wait)
        raise self.retry(countdown=wait, exc=exc) from exc
    except Exception as exc:
        # A fault of ours, not of the photo (a photo that cannot be read is rejected, not raised):
        # the evidence stays pending with the error named, and the relay tries it again later.
        with unit_of_work(res.session_factory) as db:
            _note_error(db, evidence_id, f"failed: {exc.__class__.__name__}; retried by the relay")
        raise
    with unit_of_work(res.session_factory) as db:
        outcome = _finish(db, evidence_id, found, datetime.now(UTC))
    if outcome == DECIDED_ELSEWHERE and found.original_key and found.sha256:
        # Deleted (or decided by another delivery) while this attempt stored its bytes: what it
        # wrote goes, unless other evidence holds or may yet hold the same bytes.
        with unit_of_work(res.session_factory) as db:
            lifecycle.discard_unclaimed(db=db, storage=res.storage, bucket=bucket, sha256=found.sha256,
                                        keys=[found.original_key, *found.derived_keys.values()], except_id=evidence_id)
    return outcome


@shared_task(name="media.relay")
def relay() -> list[int]:
    """Send again the pending evidence whose message or worker was lost (beat, and at worker start).
    Only those whose last attempt is older than the relay delay and than the longest retry wait, so
    a retry chain still alive is not doubled."""
    bind_request_id()
    res = resources()
    limits = evidence_settings(res.settings)
    quiet = timedelta(seconds=max(limits.relay_after_seconds, limits.verify_retry_max_seconds))
    with unit_of_work(res.session_factory) as db:
        ids = list(db.scalars(select(Evidence.id).where(
            Evidence.state == EvidenceState.pending, Evidence.sha256.is_(None),
            # Never tried: its message may still be on its way; judge it from its completion.
            func.coalesce(Evidence.last_attempt_at, Evidence.completed_at) < datetime.now(UTC) - quiet)
            .order_by(Evidence.id)))
    for evidence_id in ids:
        verify.apply_async(args=[evidence_id, None])
    if ids:
        logger.warning("relay: evidence %s sent to verification again", ids)
    return ids


@shared_task(name="media.cleanup")
def cleanup() -> dict[str, list[Any]]:
    """Hourly: expire uploads never completed and abort stale multipart uploads."""
    bind_request_id()
    res = resources()
    with unit_of_work(res.session_factory) as db:
        done = lifecycle.expire_abandoned(db=db, storage=res.storage, settings=res.settings, now=datetime.now(UTC))
    return {"expired": done.expired, "aborted_uploads": done.aborted_uploads}


@shared_task(name="media.retention")
def retention() -> list[int]:
    """Daily: delete evidence older than the retention period, a batch per transaction."""
    bind_request_id()
    res = resources()
    now, deleted = datetime.now(UTC), []
    while True:
        with unit_of_work(res.session_factory) as db:
            batch = lifecycle.apply_retention(db=db, storage=res.storage, settings=res.settings, now=now)
        deleted.extend(batch)
        if not batch:
            return deleted
