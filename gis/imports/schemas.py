from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from gis.imports.models import JobStatus


class ImportJobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    layer: str | None
    source_name: str
    source_sha256: str | None
    source_bytes: int | None
    source_crs: str | None
    status: JobStatus
    progress: float
    message: str
    counts: dict[str, Any]
    row_errors: list[dict[str, Any]]
    created_by: str
    created_at: datetime
    finished_at: datetime | None
    attempts: int = Field(description="How many times a worker started this job; above 1 after a worker was lost")


class SimbenchImportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subnet: str | None = Field(default=None, max_length=100, description="Subnet prefix, e.g. MV1.101; omit for all")
