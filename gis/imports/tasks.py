"""Celery tasks for imports. They take a job id, open their own units of work, and record the
outcome on the job row whatever happens, so a user polling the status always gets an answer.

Delivery is at least once (late acknowledgement; a message whose worker dies is redelivered or
re-sent by the relay), and each job runs to success at most once:
- the worker holds the job's lease (`gis.imports.lease`) while it runs, so a duplicate delivery
  does nothing, and a job `running` without its lease is known to have lost its worker;
- an import writes in committed chunks, each with its resume point on the job (see
  `gis.imports.simbench.import_simbench`, `gis.imports.geofile.import_features_in_chunks`), and its last
  chunk commits with the job's `succeeded`: the next attempt continues after the last committed
  chunk, so nothing is written twice and nothing is lost.
"""

from __future__ import annotations

import logging

from celery import shared_task
from sqlalchemy.orm import sessionmaker

from core.context import bind_request_id
from core.database import create_job_engine, unit_of_work
from core.read_your_writes import positions_client
from core.settings import JobSettings
from core.worker_resources import resources
from gis.imports import service as job_service
from gis.imports.lease import job_lease, process_name
from gis.imports.runner import ImportRunner, run_claimed

logger = logging.getLogger(__name__)


_runner: ImportRunner | None = None


def _import_runner() -> ImportRunner:
    """This worker process's runner: the worker's engine and sessions for the job's bookkeeping, and a
    job engine (the jobs' statement timeout, `GW_JOBS_STATEMENT_TIMEOUT_MS`, not the API's) with a
    session factory on it that runs the same event handlers. Made on first use, after the fork, like
    `core.worker_resources.resources`."""
    global _runner
    if _runner is None:
        res = resources()
        engine = create_job_engine(res.settings.database, res.settings.section(JobSettings))
        _runner = ImportRunner(settings=res.settings, sessions=res.session_factory, job_engine=engine,
                               job_sessions=sessionmaker(**{**res.session_factory.kw, "bind": engine}),
                               storage=res.storage, redis=positions_client(res.settings))
    return _runner


@shared_task(name="imports.run", acks_late=True, reject_on_worker_lost=True)
def run_import(job_id: int, request_id: str | None = None) -> str:
    bind_request_id(request_id)
    res = resources()
    with job_lease(res.engine, job_id) as taken:
        if not taken:
            logger.info("import job %s is running in another worker; this delivery does nothing", job_id)
            return "held elsewhere"
        with unit_of_work(res.session_factory) as db:
            claim = job_service.claim(db=db, job_id=job_id, worker=process_name())
        if claim is None:
            return "nothing to do"  # finished, re-sent by hand, or gone: a redelivered message
        return run_claimed(_import_runner(), claim)


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
