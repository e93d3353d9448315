"""Imports at /imports: upload a layer file or ask for the SimBench grid; a worker imports it.
Thin: each operation is one call into `gis.imports.service`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile, status

from api.dependencies import AppSettings, CeleryApp, DbSession, Storage, require
from core.bounds import DbId, column_length
from core.context import Actor
from gis.imports import service as job_service
from gis.imports.models import ImportJob
from gis.imports.permissions import IMPORTS_RUN
from gis.imports.schemas import ImportJobOut, SimbenchImportIn
from gis.network.permissions import NETWORK_READ

router = APIRouter(prefix="/imports", tags=["imports"])

Importer = Annotated[Actor, Depends(require(IMPORTS_RUN))]
Reader = Annotated[Actor, Depends(require(NETWORK_READ))]


@router.post("/geo", response_model=ImportJobOut, status_code=status.HTTP_202_ACCEPTED)
def queue_geo_import(
    settings: AppSettings, db: DbSession, storage: Storage, celery: CeleryApp, actor: Importer,
    file: Annotated[UploadFile, File(description="GeoJSON FeatureCollection or GeoPackage")],
    layer: Annotated[str, Form()],
    crs: Annotated[str | None, Form(max_length=column_length(ImportJob.source_crs))] = None,
) -> ImportJobOut:
    """Upload a layer file; it is stored, then imported by a worker. Poll `GET /imports/{id}`."""
    job = job_service.queue_geo_import(db=db, actor=actor, storage=storage, celery=celery, layer=layer,
                                       filename=file.filename, crs=crs, source=file.file,
                                       max_bytes=settings.api.max_upload_bytes)
    return ImportJobOut.model_validate(job)


@router.post("/simbench", response_model=ImportJobOut, status_code=status.HTTP_202_ACCEPTED)
def queue_simbench_import(body: SimbenchImportIn, db: DbSession, celery: CeleryApp, actor: Importer) -> ImportJobOut:
    """Import (or refresh) the SimBench grid shipped with the `simbench` package, as a background job."""
    return ImportJobOut.model_validate(job_service.queue_simbench_import(db=db, actor=actor, celery=celery,
                                                                         subnet=body.subnet))


@router.get("/{job_id:int}", response_model=ImportJobOut)
def get_import(job_id: DbId, db: DbSession, _actor: Reader) -> ImportJobOut:
    return ImportJobOut.model_validate(job_service.get(db=db, job_id=job_id))


@router.post("/{job_id:int}/retry", response_model=ImportJobOut, status_code=status.HTTP_202_ACCEPTED)
def retry_import(job_id: DbId, db: DbSession, celery: CeleryApp, actor: Importer) -> ImportJobOut:
    """Re-send a queued or failed job (e.g. after the queue was down when it was created)."""
    return ImportJobOut.model_validate(job_service.retry(db=db, actor=actor, celery=celery, job_id=job_id))
