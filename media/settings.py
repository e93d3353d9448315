"""Settings of photo evidence (`GW_EVIDENCE_*`): what may be uploaded, how uploads are split, how
long links live, when unfinished uploads are cleaned up and how long evidence is kept. The checks
a photo must pass (distance, time) are data with their source: `media/data/evidence_rules.json`."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.settings import Settings

MIB = 1024 * 1024


class EvidenceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GW_EVIDENCE_", extra="ignore")

    allowed_types: list[str] = Field(default=["image/jpeg", "image/png", "image/heic", "image/heif", "image/webp"],
                                     description="Declared content types accepted; the worker checks the bytes")
    max_size_bytes: int = Field(default=40 * MIB, ge=1024, description="Largest photo accepted")
    multipart_threshold_bytes: int = Field(default=8 * MIB, ge=5 * MIB,
                                           description="Files larger than this are uploaded in parts")
    part_size_bytes: int = Field(default=5 * MIB, ge=5 * MIB,
                                 description="Size of each part but the last (S3's minimum is 5 MiB)")
    upload_url_seconds: int = Field(default=3600, ge=60, le=7 * 24 * 3600,
                                    description="How long a presigned PUT (or part) URL is valid")
    read_url_seconds: int = Field(default=300, ge=10, le=3600,
                                  description="How long a presigned GET URL handed out to a reader is valid")
    abandon_after_hours: int = Field(default=48, ge=1,
                                     description="Uploads not completed within this time expire and their "
                                                 "parts are removed")
    retention_years: int = Field(default=10, ge=1,
                                 description="Evidence older than this is deleted by the retention job "
                                             "(the utility's records policy)")
    verify_retry_max_seconds: int = Field(default=600, ge=1,
                                          description="Longest wait between verification attempts while "
                                                      "storage is down")
    relay_after_seconds: int = Field(default=300, ge=10,
                                     description="Pending evidence whose last attempt is older than this is "
                                                 "queued again by the relay (a lost message or worker)")


def evidence_settings(settings: Settings) -> EvidenceSettings:
    return settings.section(EvidenceSettings)
