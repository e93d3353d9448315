"""The `GW_*` environment the application reads (`core/settings.py`), written to `.gw/env` (0600).

Local services get URLs built from `.gw/ports.env` and `.gw/secrets.env`. Setting any of these
before calling `./gw` uses an external service instead, and the matching local one is neither
started nor touched:
- `GW_DATABASE_URL`: `GW_DATABASE_OWNER_URL` defaults to it (so that role must be allowed to run
  migrations); `GW_TEST_DATABASE_URL` / `GW_TEST_DATABASE_OWNER_URL` default to the same server and
  credentials with the database name suffixed `_test` (that database must exist, with postgis and
  pgrouting installed).
- `GW_REDIS_URL`: `GW_TEST_REDIS_URL` defaults to the same server, logical database 1.
- `GW_S3_ENDPOINT` (host:port): `GW_S3_ACCESS_KEY` and `GW_S3_SECRET_KEY` must be set with it;
  `GW_S3_SECURE` defaults to false.
- `GW_AUTH_SIGNING_KEYS`: these token signing keys instead of the generated ones.
Any of these variables set in the environment wins over `.gw/env`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from devstack import provisioning
from devstack.console import GwError
from devstack.layout import write_private
from devstack.ports import LOOPBACK, Ports

VARIABLES = ("GW_DATABASE_URL", "GW_DATABASE_OWNER_URL", "GW_TEST_DATABASE_URL", "GW_TEST_DATABASE_OWNER_URL",
             "GW_REDIS_URL", "GW_TEST_REDIS_URL", "GW_S3_ENDPOINT", "GW_S3_ACCESS_KEY", "GW_S3_SECRET_KEY",
             "GW_S3_SECURE", "GW_AUTH_SIGNING_KEYS")
TEST_SUFFIX = "_test"
BENCH_SUFFIX = "_bench"
APP_REDIS_DB, TEST_REDIS_DB = 0, 1
TEST_BUCKET_PREFIX = "gw-test-"
DRIVER = "postgresql+psycopg"
HEADER = ("# Written by ./gw setup; regenerated on every run. Values reflect GW_* overrides given at that time.\n"
          "# Mode 0600: it holds this installation's credentials (from .gw/secrets.env).\n")


@dataclass(frozen=True)
class Overrides:
    """The `GW_*` variables the caller set (non-empty), captured before anything is computed."""

    given: Mapping[str, str]

    @classmethod
    def capture(cls, environ: Mapping[str, str]) -> Overrides:
        return cls({name: environ[name] for name in VARIABLES if environ.get(name)})

    @property
    def external_database(self) -> bool:
        return "GW_DATABASE_URL" in self.given

    @property
    def external_redis(self) -> bool:
        return "GW_REDIS_URL" in self.given

    @property
    def external_s3(self) -> bool:
        return "GW_S3_ENDPOINT" in self.given


def suffixed_db_url(url: str, suffix: str) -> str:
    """The same server and credentials, the database name + `suffix` (`_test`, `_bench`)."""
    base, separator, query = url.partition("?")
    server, _, database = base.rpartition("/")
    return f"{server}/{database}{suffix}{separator}{query}"


def redis_test_url(url: str) -> str:
    """The same Redis server, the tests' logical database."""
    match = re.fullmatch(r"(.*://[^/]*)(/[0-9]*)?", url)
    return f"{match.group(1)}/{TEST_REDIS_DB}" if match else url


def _port(port: int | None) -> str:
    return "" if port is None else str(port)


def _database(env: dict[str, str], given: Mapping[str, str], ports: Ports, secrets: Mapping[str, str]) -> None:
    if "GW_DATABASE_URL" in given:
        env["GW_DATABASE_OWNER_URL"] = given.get("GW_DATABASE_OWNER_URL", env["GW_DATABASE_URL"])
        env.setdefault("GW_TEST_DATABASE_URL", suffixed_db_url(env["GW_DATABASE_URL"], TEST_SUFFIX))
        env.setdefault("GW_TEST_DATABASE_OWNER_URL", suffixed_db_url(env["GW_DATABASE_OWNER_URL"], TEST_SUFFIX))
        return
    host = f"{LOOPBACK}:{_port(ports.pg)}"
    owner = f"{DRIVER}://{provisioning.OWNER.name}:{secrets[provisioning.OWNER.secret]}@{host}"
    app = f"{DRIVER}://{provisioning.APP.name}:{secrets[provisioning.APP.secret]}@{host}"
    env["GW_DATABASE_URL"] = f"{app}/{provisioning.DEMO_DATABASE}"
    env.setdefault("GW_DATABASE_OWNER_URL", f"{owner}/{provisioning.DEMO_DATABASE}")
    env.setdefault("GW_TEST_DATABASE_URL", f"{app}/{provisioning.TEST_DATABASE}")
    env.setdefault("GW_TEST_DATABASE_OWNER_URL", f"{owner}/{provisioning.TEST_DATABASE}")


def compose(overrides: Overrides, ports: Ports, secrets: Mapping[str, str]) -> dict[str, str]:
    """Every variable of VARIABLES: the caller's where given, else this checkout's local services."""
    given = overrides.given
    env = dict(given)
    _database(env, given, ports, secrets)
    if overrides.external_redis:
        env.setdefault("GW_TEST_REDIS_URL", redis_test_url(env["GW_REDIS_URL"]))
    else:
        base = f"redis://:{secrets['REDIS_PASSWORD']}@{LOOPBACK}:{_port(ports.redis)}"
        env["GW_REDIS_URL"] = f"{base}/{APP_REDIS_DB}"
        env.setdefault("GW_TEST_REDIS_URL", f"{base}/{TEST_REDIS_DB}")
    if not overrides.external_s3:
        env.update(GW_S3_ENDPOINT=f"{LOOPBACK}:{_port(ports.s3)}", GW_S3_ACCESS_KEY=secrets["S3_ACCESS_KEY"],
                   GW_S3_SECRET_KEY=secrets["S3_SECRET_KEY"], GW_S3_SECURE="false")
    elif not (given.get("GW_S3_ACCESS_KEY") and given.get("GW_S3_SECRET_KEY")):
        raise GwError("GW_S3_ENDPOINT is set: set GW_S3_ACCESS_KEY and GW_S3_SECRET_KEY for it too (there is no "
                      "default)")
    env.setdefault("GW_S3_SECURE", "false")
    env.setdefault("GW_AUTH_SIGNING_KEYS", secrets["AUTH_SIGNING_KEYS"])
    return {name: env[name] for name in VARIABLES}


def render(env: Mapping[str, str]) -> str:
    """`export NAME=value` lines, quoted for a POSIX shell (developers `source .gw/env`)."""
    return HEADER + "".join(f"export {name}={shlex.quote(env[name])}\n" for name in VARIABLES)


def write(path: Path, env: Mapping[str, str]) -> None:
    write_private(path, render(env))


def for_tests(env: Mapping[str, str]) -> dict[str, str]:
    """What `./gw test` runs pytest with: the test database, Redis database and bucket prefix."""
    return {**env, "GW_DATABASE_URL": env["GW_TEST_DATABASE_URL"],
            "GW_DATABASE_OWNER_URL": env["GW_TEST_DATABASE_OWNER_URL"], "GW_REDIS_URL": env["GW_TEST_REDIS_URL"],
            "GW_S3_BUCKET_PREFIX": TEST_BUCKET_PREFIX,
            # The webhook tests' receiver listens on localhost, which a real installation refuses (SSRF).
            "GW_EVENTS_ALLOW_PRIVATE_WEBHOOK_TARGETS": "true",
            # The API's test client reads an answer to its end: a console stream in the suite ends soon.
            "GW_EVENTS_STREAM_MAX_S": "1"}


def for_bench(env: Mapping[str, str]) -> dict[str, str]:
    """Benchmarks load the full SimBench set: a database of their own, never the demo one."""
    return {**env, "GW_DATABASE_URL": suffixed_db_url(env["GW_DATABASE_URL"], BENCH_SUFFIX),
            "GW_DATABASE_OWNER_URL": suffixed_db_url(env["GW_DATABASE_OWNER_URL"], BENCH_SUFFIX)}
