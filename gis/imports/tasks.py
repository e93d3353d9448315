"""Celery tasks for imports. They take a job id, open their own units of work, and record the
outcome on the job row whatever happens, so a user polling the status always gets an answer.

Delivery is at least once (late acknowledgement; a message whose worker dies is redelivered or
re-sent by the relay), and each job runs to success at most once:
- the worker holds the job's lease (`gis.imports.lease`) while it runs, so a duplicate delivery
  does nothing, and a job `running` without its lease is known to have lost its worker;
- an import writes in committed chunks, each with its resume point on the job (see
  `gis.imports.simbench.import_simbench`, `gis.imports.geofile.import_features`), and its last
  chunk commits with the job's `succeeded`: the next attempt continues after the last committed
  chunk, so nothing is written twice and nothing is lost.
"""

from __future__ import annotations

import logging
import os
import socket

from celery import shared_task
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from core.context import bind_request_id
from core.database import create_job_engine, unavailable_from, unit_of_work
from core.errors import InvalidInput, ServiceUnavailable
from core.settings import JobSettings
from core.worker_resources import resources
from gis.imports import geofile
from gis.imports import service as job_service
from gis.imports.lease import job_lease
from gis.imports.settings import ImportSettings
from gis.imports.simbench import default_source_dir, import_simbench

logger = logging.getLogger(__name__)


_job_sessions: tuple[Engine, sessionmaker[Session]] | None = None


def _job_database() -> tuple[Engine, sessionmaker[Session]]:
    """This worker process's job engine (the jobs' statement timeout, `GW_JOBS_STATEMENT_TIMEOUT_MS`,
    not the API's) and a session factory on it that runs the same event handlers as the worker's.
    Made on first use, after the fork, like `core.worker_resources.resources`."""
    global _job_sessions
    if _job_sessions is None:
        res = resources()
        engine = create_job_engine(res.settings.database, res.settings.section(JobSettings))
        factory = sessionmaker(**{**res.session_factory.kw, "bind": engine})
        _job_sessions = engine, factory
    return _job_sessions


def _worker_name() -> str:
    """host:pid of the process running the task (a prefork child, not the worker's main process)."""
    return f"{socket.gethostname()}:{os.getpid()}"


@shared_task(name="imports.run", acks_late=True, reject_on_worker_lost=True)
def run_import(job_id: int, request_id: str | None = None) -> str:
    bind_request_id(request_id)
    res = resources()
    with job_lease(res.engine, job_id) as taken:
        if not taken:
            logger.info("import job %s is running in another worker; this delivery does nothing", job_id)
            return "held elsewhere"
        with unit_of_work(res.session_factory) as db:
            claim = job_service.claim(db=db, job_id=job_id, worker=_worker_name())
        if claim is None:
            return "nothing to do"  # finished, re-sent by hand, or gone: a redelivered message
        return _run(claim)


def _run(claim: job_service.Claim) -> str:
    res = resources()
    job_engine, job_sessions = _job_database()
    job_id = claim.job_id

    def progress(fraction: float, message: str) -> None:
        job_service.set_progress(session_factory=res.session_factory, job_id=job_id, fraction=fraction,
                                 message=message)

    try:
        if claim.kind == "geo":
            assert claim.layer is not None and claim.object_key is not None
            data = res.storage.get_bytes(bucket=res.settings.s3.imports_bucket, key=claim.object_key)
            source = geofile.read_source(data, claim.source_name, crs=claim.source_crs)

            def finish(db: Session, report: geofile.GeoImportReport) -> None:
                job_service.finish(db=db, job_id=job_id, succeeded=True, counts=dict(report.counts()),
                                   message=f"{report.created} created, {report.updated} updated, "
                                           f"{report.unchanged} unchanged")

            geofile.import_features_in_chunks(session_factory=job_sessions, job_id=job_id, actor=claim.actor,
                                              layer=geofile.layer_by_name(claim.layer), source=source,
                                              settings=res.settings.api, finish=finish, progress=progress,
                                              chunk_rows=res.settings.section(ImportSettings).chunk_rows)
        else:
            import_simbench(engine=job_engine, source_dir=default_source_dir(),
                            subnet=None if claim.source_name == "all" else claim.source_name, actor=claim.actor,
                            progress=progress, job_id=job_id,
                            zone_chunk_lines=res.settings.section(JobSettings).zone_chunk_lines,
                            chunk_rows=res.settings.section(ImportSettings).chunk_rows)
        return "succeeded"
    except InvalidInput as exc:
        message, errors = exc.detail, exc.errors
    except ServiceUnavailable as exc:  # a timeout or a lost database says which, and that nothing was saved
        logger.warning("import job %s failed: %s", job_id, exc.detail)
        message, errors = f"{exc.detail} The job can be re-sent.", []
    except DBAPIError as exc:
        mapped = unavailable_from(exc, work=f"Import job {job_id}",
                                  limit_ms=res.settings.section(JobSettings).statement_timeout_ms)
        logger.exception("import job %s failed", job_id)
        message = (f"{mapped.detail} The job can be re-sent." if mapped
                   else f"failed: {exc.__class__.__name__}; the job can be re-sent")
        errors = []
    except Exception as exc:
        logger.exception("import job %s failed", job_id)
        message, errors = f"failed: {exc.__class__.__name__}; the job can be re-sent", []
    with unit_of_work(res.session_factory) as db:
        job_service.finish(db=db, job_id=job_id, succeeded=False, message=message, row_errors=errors)
    return "failed"


@shared_task(name="imports.relay")
def relay_jobs() -> list[int]:
    """Send again the jobs whose message was lost or whose worker died (Celery beat, and once at
    every worker start; see `gridwarden.worker`)."""
    bind_request_id()
    res = resources()
    with unit_of_work(res.session_factory) as db:
        job_ids = job_service.jobs_to_resend(db=db, queued_for_s=res.settings.worker.relay_after_s)
    for job_id in job_ids:
        run_import.apply_async(args=[job_id, None])
    if job_ids:
        logger.warning("relay: import job(s) %s sent again", job_ids)
    return job_ids
