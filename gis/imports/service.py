"""Import jobs: create, track progress, finish. The heavy work runs in `gis.imports.tasks`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from celery import Celery
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from core.audit import service as audit_service
from core.context import Actor, current_request_id
from core.errors import Conflict, NotFound, ServiceUnavailable
from gis.imports.models import ImportJob, JobStatus
from media.storage import ObjectStorage


def create_geo_job(*, db: Session, actor: Actor, storage: ObjectStorage, layer: str, filename: str,
                   data: bytes, crs: str | None) -> ImportJob:
    """Store the uploaded file first, then the job row: a job never points at a missing file."""
    key = f"geo/{uuid.uuid4().hex}/{filename}"
    digest = storage.put_bytes(bucket=storage.settings.imports_bucket, key=key, data=data,
                               content_type="application/octet-stream")
    job = ImportJob(kind="geo", layer=layer, source_name=filename, object_key=key, created_by=actor.username,
                    source_sha256=digest, source_bytes=len(data), source_crs=crs)
    db.add(job)
    db.flush()
    audit_service.record(db=db, actor=actor, action="import.queued", entity_type="import_job", entity_id=job.id,
                         before=None, after={"layer": layer, "file": filename, "sha256": digest})
    return job


def create_simbench_job(*, db: Session, actor: Actor, subnet: str | None) -> ImportJob:
    job = ImportJob(kind="simbench", layer=None, source_name=subnet or "all", created_by=actor.username)
    db.add(job)
    db.flush()
    audit_service.record(db=db, actor=actor, action="import.queued", entity_type="import_job", entity_id=job.id,
                         before=None, after={"kind": "simbench", "subnet": subnet})
    return job


def get(*, db: Session, job_id: int) -> ImportJob:
    job = db.get(ImportJob, job_id)
    if job is None:
        raise NotFound(f"No import job {job_id}.")
    return job


def ensure_retryable(*, job: ImportJob) -> None:
    if job.status not in {JobStatus.queued, JobStatus.failed}:
        raise Conflict(f"Import job {job.id} is {job.status}; only queued or failed jobs can be re-sent.")


def set_progress(*, session_factory: sessionmaker[Session], job_id: int, fraction: float, message: str) -> None:
    """Progress is written in its own short transaction so readers see it while the import runs."""
    with session_factory() as session, session.begin():
        session.execute(update(ImportJob).where(ImportJob.id == job_id)
                        .values(progress=max(0.0, min(1.0, fraction)), message=message[:500]))


def finish(*, db: Session, job: ImportJob, succeeded: bool, message: str, counts: dict[str, Any] | None = None,
           row_errors: list[dict[str, Any]] | None = None) -> None:
    job.status = JobStatus.succeeded if succeeded else JobStatus.failed
    job.progress = 1.0 if succeeded else job.progress
    job.message = message[:500]
    job.counts = counts or {}
    job.row_errors = row_errors or []
    job.finished_at = datetime.now(UTC)


def check_queue(*, celery: Celery) -> None:
    """Fail fast with 503 before anything is stored when the job queue cannot take work."""
    try:
        with celery.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        raise ServiceUnavailable("The job queue (Redis) is not reachable; nothing was stored. Retry shortly.",
                                 service="redis") from exc


def enqueue(*, celery: Celery, job_id: int) -> None:
    try:
        celery.send_task("imports.run", args=[job_id, current_request_id()])
    except Exception as exc:
        raise ServiceUnavailable(f"Import job {job_id} is saved but could not be queued; "
                                 f"re-send it with POST /api/v1/imports/{job_id}/retry.", service="redis") from exc
