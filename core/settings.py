"""Application settings, one small class per concern (tipg style).

Nothing here is instantiated at import time: the composition roots (`api.app.create_app_from_env`,
`core.worker`, `core.cli`) build a `Settings` and pass it down. Dev defaults point at the services
that `./gw` starts locally; production deployments override every secret through `GW_*` variables.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class DatabaseSettings(BaseSettings):
    """Two connections: the application's role (DML only) and the owner's (migrations)."""

    model_config = SettingsConfigDict(env_prefix="GW_DATABASE_", extra="ignore")

    url: SecretStr = SecretStr("postgresql+psycopg://gridwarden_app:gridwarden_app_dev@127.0.0.1:55432/gridwarden")
    owner_url: SecretStr | None = None
    pool_size: int = Field(default=10, ge=1, le=100)
    statement_timeout_ms: int = Field(default=30_000, ge=100)

    @property
    def migration_url(self) -> str:
        """The owner's URL when given; an external single-role database uses the one URL for both."""
        return (self.owner_url or self.url).get_secret_value()


class RedisSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GW_REDIS_", extra="ignore")

    url: SecretStr = SecretStr("redis://127.0.0.1:56379/0")


class S3Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GW_S3_", extra="ignore")

    endpoint: str = "127.0.0.1:58333"
    access_key: str = "gridwarden"
    secret_key: SecretStr = SecretStr("gridwarden-dev-secret")
    secure: bool = False
    region: str = "us-east-1"
    bucket_prefix: str = "gw-"

    @property
    def imports_bucket(self) -> str:
        """Uploaded source files of import jobs, kept so every import can be re-run and audited."""
        return f"{self.bucket_prefix}imports"

    @property
    def evidence_bucket(self) -> str:
        """Field photos and documents (later issues); created now so storage health covers it."""
        return f"{self.bucket_prefix}evidence"


class AuthSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GW_AUTH_", extra="ignore")

    jwt_secret: SecretStr = SecretStr("dev-only-secret-change-me-in-production-0123456789")
    jwt_algorithm: str = "HS256"
    token_minutes: int = Field(default=30, ge=1, le=24 * 60)
    issuer: str = "gridwarden"


class ApiSettings(BaseSettings):
    """Limits that protect the service from oversized requests."""

    model_config = SettingsConfigDict(env_prefix="GW_API_", extra="ignore")

    default_page_size: int = Field(default=100, ge=1)
    max_page_size: int = Field(default=1000, ge=1)
    max_upload_bytes: int = Field(default=200 * 1024 * 1024, ge=1024)
    max_bbox_degrees: float = Field(default=5.0, gt=0, description="Largest bbox side for list queries")


class ScreeningSettings(BaseSettings):
    """Limits of the screening endpoint and the capacity figure it reports."""

    model_config = SettingsConfigDict(env_prefix="GW_SCREENING_", extra="ignore")

    max_area_m2: float = Field(default=2_000_000, gt=0, description="Largest request area (a 2 km2 site)")
    max_length_m: float = Field(default=20_000, gt=0, description="Longest request line (a trench or route)")
    max_vertices: int = Field(default=10_000, ge=4)
    max_batch: int = Field(default=1000, ge=1, le=10_000)
    max_findings: int = Field(default=500, ge=1, description="Findings listed per screening (all are counted)")
    facilities_listed: int = Field(default=50, ge=1, description="A radius rule (blasting: 500 m) lists the "
                                                                 "nearest facilities as findings and counts the rest")
    nearest_transformers: int = Field(default=3, ge=1, le=20,
                                      description="Distribution transformers offered with their spare capacity")
    power_factor: float = Field(default=0.9, gt=0, le=1,
                                description="Spare capacity = rated kVA x power factor - contracted load "
                                            "(DOMAIN.md §4 default 0.9)")
    distribution_lv_max_kv: float = Field(default=1.0, gt=0,
                                          description="A transformer whose LV side is at or below this feeds "
                                                      "customers directly (a 台区 transformer)")


class WorkflowSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GW_WORKFLOW_", extra="ignore")

    overdue_check_hour_utc: int = Field(default=16, ge=0, le=23,
                                        description="Hour (UTC) of the daily overdue check; 16:30 UTC is 00:30 "
                                                    "in Asia/Shanghai")
    max_footprint_distance_m: float = Field(default=1000, gt=0,
                                            description="A site footprint farther than this from the request's "
                                                        "location is taken for a mistake (422)")


class WorkerSettings(BaseSettings):
    """Where background jobs are queued, and how a job whose worker died is sent again."""

    model_config = SettingsConfigDict(env_prefix="GW_WORKER_", extra="ignore")

    queue: str = Field(default="celery", min_length=1, max_length=100,
                       description="Queue the API sends jobs to and the workers consume; a separate name isolates "
                                   "one installation (or one test) from others sharing the same Redis")
    visibility_timeout_s: int = Field(default=3600, ge=60,
                                      description="Redis redelivers a message not acknowledged within this time; "
                                                  "above the longest import, so a running job is not sent twice "
                                                  "(a duplicate would find the job's lease taken and do nothing)")
    relay_interval_s: int = Field(default=60, ge=1,
                                  description="How often (Celery beat) the relay looks for import jobs whose "
                                              "message was lost (Redis down at commit) or whose worker died")
    relay_after_s: int = Field(default=120, ge=0,
                               description="A queued job not started this long after it was sent is sent again; "
                                           "longer than a normal wait in the queue so the relay rarely duplicates")


class Settings(BaseSettings):
    """Root settings object; each concern reads its own `GW_<CONCERN>_` variables.

    Tests and tools build one explicitly (`Settings(database=DatabaseSettings(url=...))`).
    """

    model_config = SettingsConfigDict(env_prefix="GW_", extra="ignore")

    environment: str = "dev"
    log_level: str = "INFO"
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    s3: S3Settings = Field(default_factory=S3Settings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    screening: ScreeningSettings = Field(default_factory=ScreeningSettings)
    workflow: WorkflowSettings = Field(default_factory=WorkflowSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)

    @field_validator("environment")
    @classmethod
    def _known_environment(cls, value: str) -> str:
        if value not in {"dev", "test", "production"}:
            raise ValueError("environment must be dev, test or production")
        return value
