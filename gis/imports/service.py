"""Import jobs: create, track progress, finish. The heavy work runs in `gis.imports.tasks`."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import PurePath
from typing import Any, BinaryIO

from celery import Celery
from kombu.exceptions import KombuError
from redis.exceptions import RedisError
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from core.audit import service as audit_service
from core.bounds import column_length
from core.context import Actor, current_request_id
from core.database import after_commit
from core.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge, ServiceUnavailable
from core.permissions import Role
from core.storage import ObjectStorage
from gis.geo.crs import parse_crs
from gis.imports import geofile
from gis.imports.lease import lease_is_free
from gis.imports.models import ImportJob, JobStatus

logger = logging.getLogger(__name__)

# The job kinds the import worker runs; other rows of `import_jobs` (a zone rebuild, kind "zones")
# record jobs run elsewhere and are never sent to it.
IMPORT_KINDS = ("geo", "simbench")


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


def requeue(*, db: Session, actor: Actor, job: ImportJob) -> None:
    """A failed (or never started) job is set back to queued, audited, to be sent again."""
    if job.status not in {JobStatus.queued, JobStatus.failed}:
        raise Conflict(f"Import job {job.id} is {job.status}; only queued or failed jobs can be re-sent.")
    before = {"status": str(job.status), "message": job.message}
    job.status = JobStatus.queued
    job.message = "re-sent"
    job.sent_at = datetime.now(UTC)
    audit_service.record(db=db, actor=actor, action="import.requeued", entity_type="import_job", entity_id=job.id,
                         before=before, after={"status": "queued"})


def retry(*, db: Session, actor: Actor, celery: Celery, job_id: int) -> ImportJob:
    """`POST /imports/{id}/retry`: a failed or stuck-queued job is queued again (503 if the queue is down)."""
    job = get(db=db, job_id=job_id)
    requeue(db=db, actor=actor, job=job)
    check_queue(celery=celery)
    after_commit(db, lambda: enqueue(celery=celery, job_id=job_id))
    return job


@dataclass(frozen=True)
class Claim:
    """What a worker needs to run a job it has just claimed (plain values, no ORM object)."""

    job_id: int
    kind: str
    layer: str | None
    object_key: str | None
    source_name: str
    source_crs: str | None
    actor: Actor
    attempt: int


def claim(*, db: Session, job_id: int, worker: str) -> Claim | None:
    """Mark a job running for `worker`, which must hold the job's lease (`gis.imports.lease`).

    A queued job starts; a job still `running` although its lease was free lost its worker and is
    taken over (the attempt is counted and audited). A finished job, or a missing one, is not run
    again: a redelivered message for it returns None.
    """
    job = db.execute(select(ImportJob).where(ImportJob.id == job_id).with_for_update()).scalar_one_or_none()
    if job is None or job.kind not in IMPORT_KINDS or job.status not in {JobStatus.queued, JobStatus.running}:
        return None
    before = {"status": str(job.status), "attempts": job.attempts, "worker": job.worker}
    if job.status == JobStatus.running:
        logger.warning("import job %s: its worker %s was lost; %s takes it over", job_id, job.worker, worker)
        job.message = f"restarted after worker {job.worker} was lost"
    else:
        job.message = "started"
    job.status = JobStatus.running
    job.attempts += 1
    job.worker = worker[:200]
    job.started_at = datetime.now(UTC)
    job.progress = 0.0
    audit_service.record(db=db, actor=Actor.system(f"import worker {worker}"), action="import.started",
                         entity_type="import_job", entity_id=job.id, before=before,
                         after={"status": "running", "attempts": job.attempts, "worker": job.worker})
    return Claim(job_id=job.id, kind=job.kind, layer=job.layer, object_key=job.object_key,
                 source_name=job.source_name, source_crs=job.source_crs, attempt=job.attempts,
                 # The change is attributed to the person who queued the import, through the import process.
                 actor=Actor(user_id=None, username=job.created_by, role=Role.admin))


def jobs_to_resend(*, db: Session, queued_for_s: int) -> list[int]:
    """The relay's look-up: jobs that need their message sent again, marked as sent now.

    - running, lease free: the worker died (the broker would redeliver only after its visibility
      timeout, an hour);
    - queued for longer than `queued_for_s` since last sent, lease free: the message was most
      likely lost (the queue was down at commit, or Redis lost its data). If it was merely waiting
      in a long queue, the second message finds the job taken or done and does nothing.
    """
    cutoff = datetime.now(UTC) - timedelta(seconds=queued_for_s)
    imports = ImportJob.kind.in_(IMPORT_KINDS)  # a zone rebuild job is resumed by running the rebuild again
    orphaned = and_(ImportJob.status == JobStatus.running, lease_is_free())
    lost = and_(ImportJob.status == JobStatus.queued, func.coalesce(ImportJob.sent_at, ImportJob.created_at) < cutoff,
                lease_is_free())
    ids = list(db.execute(select(ImportJob.id).where(imports, or_(orphaned, lost)).order_by(ImportJob.id)
                          .with_for_update(skip_locked=True)).scalars())
    if ids:
        db.execute(update(ImportJob).where(ImportJob.id.in_(ids)).values(sent_at=func.now()))
    return ids


def set_progress(*, session_factory: sessionmaker[Session], job_id: int, fraction: float, message: str) -> None:
    """Progress is written in its own short transaction so readers see it while the import runs."""
    with session_factory() as session, session.begin():
        session.execute(update(ImportJob).where(ImportJob.id == job_id)
                        .values(progress=max(0.0, min(1.0, fraction)), message=message[:500]))


def finish(*, db: Session, job_id: int, succeeded: bool, message: str, counts: dict[str, Any] | None = None,
           row_errors: list[dict[str, Any]] | None = None) -> None:
    """Record the outcome, audited. On success this runs in the import's last transaction, so the
    last chunk's data and "succeeded" are committed together. A failure without `counts` keeps the
    job's counts: they hold the resume point of an import in chunks, which a re-run continues from."""
    job = get(db=db, job_id=job_id)
    before = {"status": str(job.status), "attempts": job.attempts}
    job.status = JobStatus.succeeded if succeeded else JobStatus.failed
    job.progress = 1.0 if succeeded else job.progress
    job.message = message[:500]
    if counts is not None or succeeded:
        job.counts = counts or {}
    job.row_errors = row_errors or []
    job.finished_at = datetime.now(UTC)
    audit_service.record(db=db, actor=Actor.system(f"import worker {job.worker}"),
                         action="import.succeeded" if succeeded else "import.failed", entity_type="import_job",
                         entity_id=job.id, before=before,
                         after={"status": str(job.status), "attempts": job.attempts, "counts": job.counts,
                                "message": job.message, "row_errors": len(job.row_errors)})


def check_queue(*, celery: Celery) -> None:
    """Fail fast with 503 before anything is stored when the job queue cannot take work."""
    try:
        with celery.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        raise ServiceUnavailable("The job queue (Redis) is not reachable; nothing was stored. Retry shortly.",
                                 service="redis") from exc


def enqueue(*, celery: Celery, job_id: int) -> bool:
    """Send a committed job to the queue (an `after_commit` callback).

    If the queue fails now (Redis down or refusing writes between `check_queue` and the commit),
    the job is not lost: its row is the durable record, and the relay (`imports.relay`) sends it
    once the queue takes work again. So the client still gets its 202 with the queued job.
    """
    try:
        celery.send_task("imports.run", args=[job_id, current_request_id()])
    except (KombuError, RedisError, OSError) as exc:  # any broker failure: the relay is the fallback
        logger.warning("import job %s is saved but could not be queued now (%s); the relay will send it",
                       job_id, exc.__class__.__name__)
        return False
    return True


# The upload's name is kept as the job's source name and inside its object key ("geo/<32 hex>/<name>").
MAX_FILENAME_LENGTH = min(column_length(ImportJob.source_name), column_length(ImportJob.object_key) - len("geo//") - 32)
_CHUNK_BYTES = 1024 * 1024


def _read_limited(source: BinaryIO, limit: int) -> bytes:
    chunks, size = [], 0
    while chunk := source.read(_CHUNK_BYTES):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The file is larger than the {limit // _CHUNK_BYTES} MiB limit.")
        chunks.append(chunk)
    if size == 0:
        raise InvalidInput("The uploaded file is empty.", errors=[{"field": "file", "message": "empty"}])
    return b"".join(chunks)


def queue_geo_import(*, db: Session, actor: Actor, storage: ObjectStorage, celery: Celery, layer: str,
                     filename: str | None, crs: str | None, source: BinaryIO, max_bytes: int) -> ImportJob:
    """`POST /imports/geo`: check what can be checked before reading the file (layer, CRS, name),
    read it (at most `max_bytes`), check the queue takes work, then store file and job; the job is
    sent to the queue once the unit of work commits."""
    name = _checked_geo_source(layer=layer, filename=filename, crs=crs)
    data = _read_limited(source, max_bytes)
    check_queue(celery=celery)
    job = create_geo_job(db=db, actor=actor, storage=storage, layer=layer, filename=name, data=data, crs=crs)
    job_id = job.id
    after_commit(db, lambda: enqueue(celery=celery, job_id=job_id))
    return job


def store_geo_import(*, db: Session, actor: Actor, storage: ObjectStorage, layer: str, filename: str,
                     crs: str | None, data: bytes) -> ImportJob:
    """`./gw import geo`: a file in hand, checked as an upload is, stored with its job, not queued (the
    command runs it in the foreground, `gis.imports.runner`)."""
    name = _checked_geo_source(layer=layer, filename=filename, crs=crs)
    return create_geo_job(db=db, actor=actor, storage=storage, layer=layer, filename=name, data=data, crs=crs)


def _checked_geo_source(*, layer: str, filename: str | None, crs: str | None) -> str:
    """What can be checked of a geo import before its file is read; returns the file's stored name."""
    geofile.layer_by_name(layer)
    if crs:
        parse_crs(crs)
    name = PurePath(filename or "upload.geojson").name
    if len(name) > MAX_FILENAME_LENGTH or "\x00" in name:
        raise InvalidInput(f"The file name must be at most {MAX_FILENAME_LENGTH} characters, without NUL.",
                           errors=[{"field": "file", "message": "file name too long or not text"}])
    return name


def resume(*, db: Session, actor: Actor, job_id: int) -> ImportJob:
    """`./gw import resume`: a failed import job set back to queued, to be run again in the foreground
    (a queued or interrupted one is run as it is). Only import jobs: a zone rebuild has its command."""
    job = get(db=db, job_id=job_id)
    if job.kind not in IMPORT_KINDS:
        raise Conflict(f"Job {job_id} is a {job.kind} job, not an import; run `./gw zones rebuild` to continue it.")
    if job.status == JobStatus.failed:
        requeue(db=db, actor=actor, job=job)
    return job


def queue_simbench_import(*, db: Session, actor: Actor, celery: Celery, subnet: str | None) -> ImportJob:
    """`POST /imports/simbench`: a job importing (or refreshing) the SimBench grid, sent to the
    queue once the unit of work commits (503 before anything is stored if the queue is down)."""
    check_queue(celery=celery)
    job = create_simbench_job(db=db, actor=actor, subnet=subnet)
    job_id = job.id
    after_commit(db, lambda: enqueue(celery=celery, job_id=job_id))
    return job
