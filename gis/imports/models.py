"""Import jobs: a long import runs in a Celery worker; this row is its progress and outcome."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, DateTime, Enum, Float, ForeignKey, Integer, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.models import Base


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


class ImportJob(Base):
    __tablename__ = "import_jobs"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # "geo" or "simbench"
    layer: Mapped[str | None] = mapped_column(String(40))
    source_name: Mapped[str] = mapped_column(String(300))
    object_key: Mapped[str | None] = mapped_column(String(300))  # the uploaded file in the imports bucket
    source_sha256: Mapped[str | None] = mapped_column(String(64))  # fingerprint of the uploaded file
    source_bytes: Mapped[int | None] = mapped_column(BigInteger)
    source_crs: Mapped[str | None] = mapped_column(String(80))  # the CRS the uploader named, if any
    status: Mapped[JobStatus] = mapped_column(Enum(JobStatus, name="job_status", native_enum=False, length=20),
                                              default=JobStatus.queued)
    progress: Mapped[float] = mapped_column(Float, default=0.0)  # 0..1
    message: Mapped[str] = mapped_column(String(500), default="")
    counts: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    row_errors: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Robustness: a worker that dies mid-import leaves the job `running` without its lease (a
    # PostgreSQL advisory lock held by the worker's connection); the next delivery takes it over.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    worker: Mapped[str | None] = mapped_column(String(200))  # host:pid of the worker holding / last holding it
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # of the current attempt
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # last re-sent by the relay


class ImportStagingRow(Base):
    """A validated row of an import job waiting to be written (issue 14: imports in chunks).

    The whole source is parsed, checked and staged here in one transaction before anything reaches
    the network tables; chunks of `seq` then move into them, each chunk committing its resume point
    on the job. The rows of a job are deleted when it finishes, and with the job.
    """

    __tablename__ = "import_staging_rows"

    job_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("import_jobs.id", ondelete="CASCADE"),
                                        primary_key=True)
    layer: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)  # 1.. within the layer, the order of writing
    row: Mapped[dict[str, Any]] = mapped_column(JSONB)
