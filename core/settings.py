"""Application settings, one small class per concern (tipg style).

Nothing here is instantiated at import time: the composition roots (`api.app.create_app_from_env`,
`core.worker`, `core.cli`) build a `Settings` and pass it down. Dev defaults point at the services
that `./gw` starts locally; production deployments override every secret through `GW_*` variables.
The token signing keys have no default at all (`GW_AUTH_SIGNING_KEYS`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

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


# Secrets that have been published (in this repository's history, docs or compose file): a deployment
# signing with one of them lets anyone who read the repository mint tokens, so they are refused.
PUBLISHED_SIGNING_SECRETS = frozenset({
    "dev-only-secret-change-me-in-production-0123456789",
    "some-other-secret-that-is-long-enough-for-hs256",
})
MIN_SIGNING_SECRET_CHARS = 32
# A long secret of a few repeated characters ("xxxx...") is a placeholder, not a key.
MIN_SIGNING_SECRET_DISTINCT_CHARS = 10
_KID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,40}$")


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One HMAC key: `kid` goes into the token header so a verifier picks the key that signed it."""

    kid: str
    secret: SecretStr


def parse_signing_keys(value: str) -> tuple[SigningKey, ...]:
    """`kid:secret,kid:secret` -> keys, newest (the signing key) first. Raises ValueError saying what is wrong."""
    keys: list[SigningKey] = []
    for position, item in enumerate(value.split(","), start=1):
        kid, sep, secret = item.strip().partition(":")
        if not sep or not _KID_PATTERN.match(kid):
            raise ValueError(f"GW_AUTH_SIGNING_KEYS entry {position} is not 'kid:secret' with a kid of letters, "
                             "digits, '.', '_' or '-' (at most 40)")
        if len(secret) < MIN_SIGNING_SECRET_CHARS:
            raise ValueError(f"GW_AUTH_SIGNING_KEYS key {kid!r} is shorter than {MIN_SIGNING_SECRET_CHARS} "
                             "characters; generate one with `python3 -c 'import secrets; "
                             "print(secrets.token_hex(32))'`")
        if len(set(secret)) < MIN_SIGNING_SECRET_DISTINCT_CHARS:
            raise ValueError(f"GW_AUTH_SIGNING_KEYS key {kid!r} has fewer than {MIN_SIGNING_SECRET_DISTINCT_CHARS} "
                             "distinct characters; use a random secret")
        if secret in PUBLISHED_SIGNING_SECRETS:
            raise ValueError(f"GW_AUTH_SIGNING_KEYS key {kid!r} is a published default secret; anyone could "
                             "forge tokens with it. Generate a random one")
        if any(k.kid == kid for k in keys):
            raise ValueError(f"GW_AUTH_SIGNING_KEYS names kid {kid!r} twice")
        keys.append(SigningKey(kid=kid, secret=SecretStr(secret)))
    return tuple(keys)


class AuthSettings(BaseSettings):
    """Token signing, session checks and sign-in throttling.

    `signing_keys` has no default on purpose: a secret in the source is a secret everyone has. `./gw`
    generates one per installation; `./gw rotate-signing-key` prepends a new key and keeps the old one
    so tokens it signed stay valid until they expire.
    """

    model_config = SettingsConfigDict(env_prefix="GW_AUTH_", extra="ignore")

    signing_keys: SecretStr | None = Field(
        default=None, validate_default=True,
        description="Comma-separated `kid:secret` pairs (secrets of 32+ characters); the first signs, all verify")
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    token_minutes: int = Field(default=30, ge=1, le=24 * 60)
    issuer: str = "gridwarden"
    session_cache_seconds: int = Field(
        default=5, ge=0, le=60,
        description="How long a user's active flag, token version and revoked tokens are cached in Redis; "
                    "disabling or signing out invalidates the cache at once, so this only bounds the window "
                    "in which a change made while Redis was unreachable can go unseen")
    redis_timeout_s: float = Field(
        default=0.5, gt=0, le=10,
        description="Socket timeout of the session cache and the sign-in throttle: a hung Redis must not "
                    "hold every authenticated request (they fall back to the database)")
    signin_window_s: int = Field(
        default=900, ge=1,
        description="Failed sign-ins are counted over this window (from the last failure)")
    signin_free_attempts: int = Field(
        default=5, ge=1, description="Failed sign-ins on one account before delays start (typos are free)")
    signin_free_attempts_per_address: int = Field(
        default=20, ge=1,
        description="Failed sign-ins from one client address before delays start; higher than per account "
                    "because an office or a mobile carrier puts many users behind one address")
    signin_backoff_base_s: float = Field(
        default=1.0, gt=0, description="First delay after the free attempts; doubles with each further failure")
    signin_backoff_max_s: float = Field(default=60.0, gt=0, description="Longest delay before the lock")
    signin_lock_after: int = Field(
        default=10, ge=2, description="Failed attempts on one account (within the window) that lock it")
    signin_lock_after_per_address: int = Field(
        default=50, ge=2, description="Failed attempts from one address (within the window) that lock it")
    signin_lock_s: int = Field(default=900, ge=1, description="How long a lock lasts")
    signin_unavailable_retry_s: int = Field(
        default=5, ge=1, description="Retry-After of a sign-in refused because the throttle store is down")

    @field_validator("signing_keys")
    @classmethod
    def _usable_keys(cls, value: SecretStr | None) -> SecretStr:
        if value is None or not value.get_secret_value().strip():
            raise ValueError("GW_AUTH_SIGNING_KEYS is not set. The API refuses to start without a signing key: "
                             "`./gw` generates one per installation; elsewhere set it to `kid:secret` with a "
                             "random secret of at least 32 characters")
        parse_signing_keys(value.get_secret_value())
        return value

    @property
    def keys(self) -> tuple[SigningKey, ...]:
        """All verifying keys; `keys[0]` signs."""
        assert self.signing_keys is not None
        return parse_signing_keys(self.signing_keys.get_secret_value())


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

    @field_validator("environment")
    @classmethod
    def _known_environment(cls, value: str) -> str:
        if value not in {"dev", "test", "production"}:
            raise ValueError("environment must be dev, test or production")
        return value
