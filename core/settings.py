"""Application settings, one small class per concern (tipg style).

Nothing here is instantiated at import time: the composition roots (`api.app.create_app_from_env`,
`gridwarden.worker`, `gridwarden.cli`) build a `Settings` and pass it down. Dev defaults point at the services
that `./gw` starts locally; production deployments override every secret through `GW_*` variables.
The token signing keys have no default at all (`GW_AUTH_SIGNING_KEYS`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, TypeVar, cast

from pydantic import Field, PrivateAttr, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Credential = TypeVar("Credential", str, SecretStr)
Section = TypeVar("Section", bound=BaseSettings)


def require_credential(settings_class: type[BaseSettings], value: Credential, info: ValidationInfo) -> Credential:
    """Refuse an empty credential, naming the variable to set.

    Endpoints and tuning have defaults; credentials never do, because a default credential is one that
    everyone who reads the source has. Their fields default to "" (so that `Settings(...)` type-checks
    when built explicitly) and this validator, run on the default too, stops the start when nothing was
    given. `./gw` generates them per installation (`.gw/secrets.env`) and exports them as `GW_*`
    variables; a deployment takes them from its secret store.
    """
    given = value.get_secret_value() if isinstance(value, SecretStr) else value
    if not given.strip():
        variable = f"{settings_class.model_config.get('env_prefix', '')}{info.field_name}".upper()
        raise ValueError(f"{variable} is not set. Credentials have no default: `./gw` generates them for its local "
                         "services (.gw/env); a deployment sets them from its secret store (README, 'Services and "
                         "secrets').")
    return value


class DatabaseSettings(BaseSettings):
    """Two connections: the application's role (DML only) and the owner's (migrations)."""

    model_config = SettingsConfigDict(env_prefix="GW_DATABASE_", extra="ignore")

    url: SecretStr = Field(default=SecretStr(""), validate_default=True,
                           description="The application role's URL, with its password (no default)")
    owner_url: SecretStr | None = None
    pool_size: int = Field(default=10, ge=1, le=100)
    statement_timeout_ms: int = Field(default=30_000, ge=100)
    jit: bool = Field(default=False, description=(
        "PostgreSQL's JIT compilation for this application's connections. Off: the API's queries are "
        "short, and JIT starts compiling once a plan's estimated cost passes jit_above_cost (100,000), "
        "which a 2 km map page of a thousand customers in a dense area does; compiling then costs "
        "5-15 ms of a query that runs in about 12 ms without it (measured with EXPLAIN ANALYZE on the "
        "SimBench set). Nothing here runs long enough to win that back."))
    read_url: SecretStr = Field(default=SecretStr(""), description=(
        "A streaming read replica of the same database, for the application role (same user and password "
        "as `url`). Empty: no replica, every read on the primary. Set: map lists, tiles and traces read "
        "from it, except for a user whose last write it has not replayed yet (read-your-writes)."))
    read_your_writes_s: int = Field(default=300, ge=1, description=(
        "How long after a user's write their reads wait for the replica to have replayed it (else they "
        "go to the primary). Longer than any replication lag the operator tolerates: a replica behind by "
        "more than this serves that user's reads without their write, so alert on lag well below it."))

    @field_validator("url")
    @classmethod
    def _credential_given(cls, value: SecretStr, info: ValidationInfo) -> SecretStr:
        return require_credential(cls, value, info)

    @property
    def migration_url(self) -> str:
        """The owner's URL when given; an external single-role database uses the one URL for both."""
        return (self.owner_url or self.url).get_secret_value()


class JobSettings(BaseSettings):
    """Whole-network jobs (zone rebuild, imports): their own statement timeout and chunk size.

    A request's statement timeout (`GW_DATABASE_STATEMENT_TIMEOUT_MS`, 30 s) protects the API from a
    runaway query; a job that touches every line of a province must never run into it. Jobs work in
    chunks, each its own transaction, and each statement of a chunk gets `statement_timeout_ms`: a
    chunk is sized to take about a second (the full SimBench set's 34,606 lines rebuild in 5.1-5.6 s,
    about 0.3 s per 2,000 lines), so the limit only stops a chunk that is stuck (a lock wait, a plan
    gone wrong), and the job resumes from the last finished chunk when it is run again.
    """

    model_config = SettingsConfigDict(env_prefix="GW_JOBS_", extra="ignore")

    statement_timeout_ms: int = Field(default=600_000, ge=100, description=(
        "Statement timeout of a job's connections (per statement of a chunk); far above a chunk's "
        "normal second so only a stuck chunk hits it, and independent of the API's request timeout"))
    zone_chunk_lines: int = Field(default=2_000, ge=1, le=1_000_000, description=(
        "Lines per chunk of a zone rebuild (one transaction each); about 0.3 s of work on the SimBench set"))


class RedisSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GW_REDIS_", extra="ignore")

    url: SecretStr = Field(default=SecretStr(""), validate_default=True,
                           description="redis://:PASSWORD@HOST:PORT/DB; the server must require the password")

    @field_validator("url")
    @classmethod
    def _credential_given(cls, value: SecretStr, info: ValidationInfo) -> SecretStr:
        return require_credential(cls, value, info)


class S3Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GW_S3_", extra="ignore")

    endpoint: str = "127.0.0.1:58333"
    access_key: str = Field(default="", validate_default=True,
                            description="No default: generated by ./gw, or the deployment's own")
    secret_key: SecretStr = Field(default=SecretStr(""), validate_default=True,
                                  description="No default: generated by ./gw, or the deployment's own")
    secure: bool = False
    region: str = "us-east-1"
    bucket_prefix: str = "gw-"
    pool_size: int = Field(default=16, ge=1, le=256, description="Connections kept open to the S3 endpoint")
    # The address devices use for presigned upload and download URLs when it is not `endpoint`
    # (the app reaches storage on an internal network, phones through a public name).
    public_endpoint: str | None = None
    public_secure: bool | None = None

    @field_validator("access_key", "secret_key")
    @classmethod
    def _credential_given(cls, value: Credential, info: ValidationInfo) -> Credential:
        return require_credential(cls, value, info)

    @property
    def device_endpoint(self) -> str:
        """The address presigned URLs name: where phones and browsers reach storage."""
        return self.public_endpoint or self.endpoint

    @property
    def device_secure(self) -> bool:
        return self.secure if self.public_secure is None else self.public_secure

    @property
    def device_origin(self) -> str:
        """`scheme://host:port` of presigned URLs (what a page's content-security policy must allow)."""
        return f"{'https' if self.device_secure else 'http'}://{self.device_endpoint}"

    @property
    def imports_bucket(self) -> str:
        """Uploaded source files of import jobs, kept so every import can be re-run and audited."""
        return f"{self.bucket_prefix}imports"

    @property
    def evidence_bucket(self) -> str:
        """Field photos (`media`): staging uploads, content-addressed originals, derived images."""
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

    pat_default_days: int = Field(
        default=90, ge=1, description="Lifetime of a personal access token created without one")
    pat_max_days: int = Field(
        default=365, ge=1, le=36_500,
        description="Longest lifetime a personal access token may be given: a stored credential that never "
                    "expires outlives the reason it was made")
    pat_last_used_every_s: int = Field(
        default=300, ge=0,
        description="A token's last_used_at is written at most this often: a map client fetches hundreds of "
                    "pages and tiles a minute, and a write per request would double their cost")

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
    max_upload_bytes: int = Field(default=200 * 1024 * 1024, ge=1024,
                                  description="Largest import file; a multipart upload may be this plus "
                                              "upload_form_overhead_bytes")
    upload_form_overhead_bytes: int = Field(default=64 * 1024, ge=1024,
                                            description="Room for a multipart form's boundaries and small "
                                                        "fields (layer, crs) around the file itself")
    max_json_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1024,
                                     description="Largest JSON request body: a layer feature at "
                                                 "max_geometry_vertices (~1.5 MB) or a full screening batch "
                                                 "fit with room to spare; more is refused (413) unread")
    max_bbox_degrees: float = Field(default=5.0, gt=0, description="Largest bbox side for list queries")
    max_geometry_vertices: int = Field(default=50_000, ge=4,
                                       description="Most vertices one stored geometry (a line, a manual "
                                                   "zone, a built-up area outline, a case footprint) may have: "
                                                   "a 100 km line surveyed every 2 m, a city outline; beyond it "
                                                   "the client is asked to simplify")
    max_zone_area_m2: float = Field(default=1e10, gt=0,
                                    description="Largest manual zone or built-up area (10,000 km2, a large "
                                                "city): anything bigger is a mistake (swapped axes, a wrong "
                                                "CRS, a ring wound the long way round the globe)")
    audit_geometry_verbatim_vertices: int = Field(default=100, ge=1,
                                                  description="Geometries up to this many vertices are kept "
                                                              "whole in audit records; larger ones as type, "
                                                              "vertex count, bbox and SHA-256 (the audit log "
                                                              "is append-only, so its records must stay small)")


# Which tasks are which kind of job (issue 14: a long import never delays an event or a photo check).
# The relays (imports.relay, media.relay, routing.relay) stay on the default queue: they are quick and
# must not wait behind the long job they exist to re-send.
_KIND_PATTERN = re.compile(r"^[a-z0-9_-]{1,40}$")
DEFAULT_TASK_KINDS: dict[str, str] = {
    "imports.run": "imports",
    "media.verify": "verification",
    "routing.solve_plan": "planning",
    "events.": "events",  # outbox relay and webhook delivery
}


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
    task_kinds: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_TASK_KINDS),
        description="The kind of job each task is, by task name or name prefix ending in '.' (the longest match "
                    "wins); a kind has a queue of its own, `<queue>.<kind>`, so a long import never waits in front "
                    "of an event or a photo check. A task of no kind goes to `queue`. JSON in the environment")

    @field_validator("task_kinds")
    @classmethod
    def _kinds_are_names(cls, value: dict[str, str]) -> dict[str, str]:
        for task, kind in value.items():
            if not task or not _KIND_PATTERN.fullmatch(kind):
                raise ValueError(f"task kind {kind!r} of {task!r}: a kind is a short name (letters, digits, - and _)")
        return value

    def queue_of_kind(self, kind: str | None) -> str:
        """The queue of a kind of job; None (no kind): the default queue."""
        return self.queue if kind is None else f"{self.queue}.{kind}"

    def kind_of(self, task_name: str) -> str | None:
        """The kind `task_kinds` gives a task (longest matching name or prefix), or None."""
        matches = [key for key in self.task_kinds
                   if key == task_name or (key.endswith(".") and task_name.startswith(key))]
        return self.task_kinds[max(matches, key=len)] if matches else None

    def queues(self) -> list[str]:
        """Every queue: the default one first, then one per kind."""
        return [self.queue, *(self.queue_of_kind(kind) for kind in sorted(set(self.task_kinds.values())))]


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
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    _sections: dict[type[BaseSettings], BaseSettings] = PrivateAttr(default_factory=dict)

    def section(self, section_type: type[Section]) -> Section:
        """A domain's own settings (e.g. `gis.screening.settings.ScreeningSettings`), read from its
        `GW_<PREFIX>_*` variables the first time it is asked for and kept with these settings. Core
        declares only its own concerns; each domain declares its settings next to its code."""
        found = self._sections.get(section_type)
        if found is None:
            found = self._sections[section_type] = section_type()
        return cast(Section, found)

    @field_validator("environment")
    @classmethod
    def _known_environment(cls, value: str) -> str:
        if value not in {"dev", "test", "production"}:
            raise ValueError("environment must be dev, test or production")
        return value
