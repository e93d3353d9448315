"""Settings of imports (`GW_IMPORTS_*`): how many rows one committed chunk writes."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ImportSettings(BaseSettings):
    """An import writes each layer in chunks of `chunk_rows` rows, one transaction each, with its
    resume point on the job, so the jobs' statement timeout (`GW_JOBS_STATEMENT_TIMEOUT_MS`) only
    stops a stuck chunk. Measured on the full SimBench set (34,606 lines; fresh tables, one run each,
    2-core machine): chunks of 5,000 rows: 54 chunks, the longest 0.71 s, 15.4 s in all; one chunk per
    layer: the longest 3.17 s (the lines with their zones), 13.5 s in all. Both spend 5 s reading,
    planning and staging. At 10x a layer grows tenfold, a chunk does not.
    """

    model_config = SettingsConfigDict(env_prefix="GW_IMPORTS_", extra="ignore")

    chunk_rows: int = Field(default=5_000, ge=1, le=1_000_000, description=(
        "Rows per committed chunk of an import (per layer); a failed import resumes after the last one"))
