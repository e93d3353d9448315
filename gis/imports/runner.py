"""Running one import job to its end, wherever it runs: the worker's task (`gis.imports.tasks`) and
`./gw import geo|simbench|resume` (`gis.imports.cli`) call the same function, so an import started
from the command line is the same job as one uploaded through the API: a row in `import_jobs`,
its file in the imports bucket, written in committed chunks, with progress, a resume point and the
outcome on the job, audited as the user (or `import` for the command line) who started it. When it
succeeds, that user's reads see it at once, also from a lagging read replica (read-your-writes).

The caller holds the job's lease (`gis.imports.lease`) and has claimed it (`service.claim`).
Whatever happens, the job ends `succeeded` or `failed` with a message that says what happened; a
failed job is continued after its last committed chunk when it is run again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from redis import Redis, RedisError
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from core.database import unavailable_from, unit_of_work, written_position
from core.errors import InvalidInput, ServiceUnavailable
from core.read_your_writes import remember_write
from core.settings import JobSettings, Settings
from core.storage import ObjectStorage
from core.users import service as user_service
from gis.imports import geofile
from gis.imports import service as job_service
from gis.imports.settings import ImportSettings
from gis.imports.simbench import default_source_dir, import_simbench

logger = logging.getLogger(__name__)

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class ImportRunner:
    """What running an import needs. Two session factories, as the worker has them: `sessions` on the
    application's engine for the job's bookkeeping (progress, the outcome), `job_sessions` on the job
    engine (`GW_JOBS_STATEMENT_TIMEOUT_MS`) for the import's own chunks."""

    settings: Settings
    sessions: sessionmaker[Session]
    job_engine: Engine
    job_sessions: sessionmaker[Session]
    storage: ObjectStorage
    redis: Redis  # where read-your-writes keeps the positions (core.read_your_writes)


def run_claimed(runner: ImportRunner, claim: job_service.Claim, *, echo: Progress | None = None) -> str:
    """Run a claimed job; returns "succeeded" or "failed" (the job row says why). `echo` also gets
    every progress report (the command line prints them)."""
    job_id = claim.job_id
    settings = runner.settings

    def progress(fraction: float, message: str) -> None:
        job_service.set_progress(session_factory=runner.sessions, job_id=job_id, fraction=fraction, message=message)
        if echo:
            echo(fraction, message)

    try:
        if claim.kind == "geo":
            assert claim.layer is not None and claim.object_key is not None
            data = runner.storage.get_bytes(bucket=settings.s3.imports_bucket, key=claim.object_key)
            source = geofile.read_source(data, claim.source_name, crs=claim.source_crs)

            def finish(db: Session, report: geofile.GeoImportReport) -> None:
                job_service.finish(db=db, job_id=job_id, succeeded=True, counts=dict(report.counts()),
                                   message=f"{report.created} created, {report.updated} updated, "
                                           f"{report.unchanged} unchanged")

            geofile.import_features_in_chunks(session_factory=runner.job_sessions, job_id=job_id, actor=claim.actor,
                                              layer=geofile.layer_by_name(claim.layer), source=source,
                                              settings=settings.api, finish=finish, progress=progress,
                                              chunk_rows=settings.section(ImportSettings).chunk_rows)
        else:
            import_simbench(engine=runner.job_engine, source_dir=default_source_dir(),
                            subnet=None if claim.source_name == "all" else claim.source_name, actor=claim.actor,
                            progress=progress, job_id=job_id,
                            zone_chunk_lines=settings.section(JobSettings).zone_chunk_lines,
                            chunk_rows=settings.section(ImportSettings).chunk_rows)
        _remember_for_creator(runner, claim)
        return "succeeded"
    except InvalidInput as exc:
        message, errors = exc.detail, exc.errors
    except ServiceUnavailable as exc:  # a timeout or a lost database says which, and that nothing was saved
        logger.warning("import job %s failed: %s", job_id, exc.detail)
        message, errors = f"{exc.detail} The job can be re-sent.", []
    except DBAPIError as exc:
        mapped = unavailable_from(exc, work=f"Import job {job_id}",
                                  limit_ms=settings.section(JobSettings).statement_timeout_ms)
        logger.exception("import job %s failed", job_id)
        message = (f"{mapped.detail} The job can be re-sent." if mapped
                   else f"failed: {exc.__class__.__name__}; the job can be re-sent")
        errors = []
    except Exception as exc:
        logger.exception("import job %s failed", job_id)
        message, errors = f"failed: {exc.__class__.__name__}; the job can be re-sent", []
    with unit_of_work(runner.sessions) as db:
        job_service.finish(db=db, job_id=job_id, succeeded=False, message=message, row_errors=errors)
    return "failed"


def _remember_for_creator(runner: ImportRunner, claim: job_service.Claim) -> None:
    """Read-your-writes for the user who queued the job, as for their own API writes: their next map
    reads wait for (or bypass) a replica that has not replayed the import yet. Recorded with or without
    a replica (one query and one Redis command per job). A failure cannot undo the import: it is
    logged, and that user may not see the import on a lagging replica for a moment."""
    try:
        with runner.sessions() as db:
            user = user_service.get_by_username(db=db, username=claim.actor.username)
            if user is None:  # the command line's "system:import", or a user removed since
                return
            position = written_position(db)
            user_id = user.id
        remember_write(runner.redis, user_id=user_id, position=position,
                       keep_s=runner.settings.database.read_your_writes_s)
    except (DBAPIError, RedisError):
        logger.warning("import job %s: could not record its WAL position for %s", claim.job_id, claim.actor.username,
                       exc_info=True)
