"""Celery tasks for imports. They take a job id, open their own units of work, and record the
outcome on the job row whatever happens, so a user polling the status always gets an answer."""

from __future__ import annotations

import logging

from celery import shared_task

from core.context import Actor, bind_request_id
from core.database import unit_of_work
from core.errors import InvalidInput, NotFound
from core.permissions import Role
from core.worker_resources import resources
from gis.imports import geofile
from gis.imports import service as job_service
from gis.imports.models import ImportJob, JobStatus
from gis.imports.simbench import default_source_dir, import_simbench

logger = logging.getLogger(__name__)


def _job_actor(job: ImportJob) -> Actor:
    # The change is attributed to the person who queued the import, through the import process.
    return Actor(user_id=None, username=job.created_by, role=Role.admin)


@shared_task(name="imports.run", acks_late=True)
def run_import(job_id: int, request_id: str | None = None) -> str:
    bind_request_id(request_id)
    res = resources()
    with unit_of_work(res.session_factory) as db:
        try:
            job = job_service.get(db=db, job_id=job_id)
        except NotFound:
            logger.warning("import job %s not found", job_id)
            return "missing"
        if job.status not in {JobStatus.queued, JobStatus.failed}:
            return str(job.status)  # a redelivered message for a job already done or running
        job.status = JobStatus.running
        job.message = "started"
        kind, layer, key, source_name, crs = job.kind, job.layer, job.object_key, job.source_name, job.source_crs
        actor = _job_actor(job)

    def progress(fraction: float, message: str) -> None:
        job_service.set_progress(session_factory=res.session_factory, job_id=job_id, fraction=fraction,
                                 message=message)

    counts: dict[str, object] = {}
    errors: list[dict[str, object]] = []
    message = "done"
    succeeded = False
    try:
        if kind == "geo":
            assert layer is not None and key is not None
            data = res.storage.get_bytes(bucket=res.settings.s3.imports_bucket, key=key)
            source = geofile.read_source(data, source_name, crs=crs)
            with unit_of_work(res.session_factory) as db:
                report = geofile.import_features(db=db, actor=actor, layer=geofile.layer_by_name(layer),
                                                 source=source, settings=res.settings.api, progress=progress)
            counts = dict(report.counts())
            message = f"{report.created} created, {report.updated} updated, {report.unchanged} unchanged"
        else:
            sim = import_simbench(engine=res.engine, source_dir=default_source_dir(),
                                  subnet=None if source_name == "all" else source_name, actor=actor,
                                  progress=progress)
            counts = dict(sim.counts())
            message = "SimBench import finished"
        succeeded = True
    except InvalidInput as exc:
        message, errors = exc.detail, exc.errors
    except Exception as exc:
        logger.exception("import job %s failed", job_id)
        message = f"failed: {exc.__class__.__name__}; the job can be re-sent"
    with unit_of_work(res.session_factory) as db:
        job_service.finish(db=db, job=job_service.get(db=db, job_id=job_id), succeeded=succeeded, message=message,
                           counts=counts, row_errors=errors)
    return "succeeded" if succeeded else "failed"
