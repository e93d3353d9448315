from __future__ import annotations

from pathlib import PurePath
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile, status
from fastapi.concurrency import run_in_threadpool

from api.dependencies import AppSettings, CeleryApp, DbSession, Storage, require
from core.bounds import DbId, column_length
from core.context import Actor
from core.database import after_commit
from core.errors import InvalidInput, PayloadTooLarge
from gis.crs import parse_crs
from gis.imports import geofile
from gis.imports import service as job_service
from gis.imports.models import ImportJob
from gis.imports.permissions import IMPORTS_RUN
from gis.imports.schemas import ImportJobOut, SimbenchImportIn
from gis.network.permissions import NETWORK_READ

router = APIRouter(prefix="/imports", tags=["imports"])
# The upload's name is kept as the job's source name and inside its object key ("geo/<32 hex>/<name>").
MAX_FILENAME_LENGTH = min(column_length(ImportJob.source_name), column_length(ImportJob.object_key) - len("geo//") - 32)

Importer = Annotated[Actor, Depends(require(IMPORTS_RUN))]
Reader = Annotated[Actor, Depends(require(NETWORK_READ))]


async def _read_limited(upload: UploadFile, limit: int) -> bytes:
    chunks, size = [], 0
    while chunk := await upload.read(1024 * 1024):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The file is larger than the {limit // (1024 * 1024)} MiB limit.")
        chunks.append(chunk)
    if size == 0:
        raise InvalidInput("The uploaded file is empty.", errors=[{"field": "file", "message": "empty"}])
    return b"".join(chunks)


@router.post("/geo", response_model=ImportJobOut, status_code=status.HTTP_202_ACCEPTED)
async def queue_geo_import(
    settings: AppSettings, db: DbSession, storage: Storage, celery: CeleryApp, actor: Importer,
    file: Annotated[UploadFile, File(description="GeoJSON FeatureCollection or GeoPackage")],
    layer: Annotated[str, Form()],
    crs: Annotated[str | None, Form(max_length=column_length(ImportJob.source_crs))] = None,
) -> ImportJobOut:
    """Upload a layer file; it is stored, then imported by a worker. Poll `GET /imports/{id}`."""
    geofile.layer_by_name(layer)
    if crs:
        parse_crs(crs)
    filename = PurePath(file.filename or "upload.geojson").name
    if len(filename) > MAX_FILENAME_LENGTH or "\x00" in filename:
        raise InvalidInput(f"The file name must be at most {MAX_FILENAME_LENGTH} characters, without NUL.",
                           errors=[{"field": "file", "message": "file name too long or not text"}])
    data = await _read_limited(file, settings.api.max_upload_bytes)
    await run_in_threadpool(job_service.check_queue, celery=celery)
    job = await run_in_threadpool(job_service.create_geo_job, db=db, actor=actor, storage=storage, layer=layer,
                                  filename=filename, data=data, crs=crs)
    job_id = job.id
    after_commit(db, lambda: job_service.enqueue(celery=celery, job_id=job_id))
    return ImportJobOut.model_validate(job)


@router.post("/simbench", response_model=ImportJobOut, status_code=status.HTTP_202_ACCEPTED)
def queue_simbench_import(body: SimbenchImportIn, db: DbSession, celery: CeleryApp, actor: Importer) -> ImportJobOut:
    """Import (or refresh) the SimBench grid shipped with the `simbench` package, as a background job."""
    job_service.check_queue(celery=celery)
    job = job_service.create_simbench_job(db=db, actor=actor, subnet=body.subnet)
    job_id = job.id
    after_commit(db, lambda: job_service.enqueue(celery=celery, job_id=job_id))
    return ImportJobOut.model_validate(job)


@router.get("/{job_id:int}", response_model=ImportJobOut)
def get_import(job_id: DbId, db: DbSession, _actor: Reader) -> ImportJobOut:
    return ImportJobOut.model_validate(job_service.get(db=db, job_id=job_id))


@router.post("/{job_id:int}/retry", response_model=ImportJobOut, status_code=status.HTTP_202_ACCEPTED)
def retry_import(job_id: DbId, db: DbSession, celery: CeleryApp, actor: Importer) -> ImportJobOut:
    """Re-send a queued or failed job (e.g. after the queue was down when it was created)."""
    return ImportJobOut.model_validate(job_service.retry(db=db, actor=actor, celery=celery, job_id=job_id))
