"""Settings of imports (`GW_IMPORTS_*`): how many rows one committed chunk writes."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ImportSettings(BaseSettings):
    """An import writes each layer in chunks of `chunk_rows` rows, one transaction each, with its
    resume point on the job. 5,000 rows is about the size of a zone chunk's work (the full SimBench
    set's 34,606 lines upsert in about a second, their zones in 5 s), so a chunk takes around a
    second and the jobs' statement timeout (`GW_JOBS_STATEMENT_TIMEOUT_MS`) only stops a stuck one.
    """

    model_config = SettingsConfigDict(env_prefix="GW_IMPORTS_", extra="ignore")

    chunk_rows: int = Field(default=5_000, ge=1, le=1_000_000, description=(
        "Rows per committed chunk of an import (per layer); a failed import resumes after the last one"))
