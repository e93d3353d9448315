"""The GW_* environment: local URLs from ports and secrets, the caller's external services kept, the
test and bench databases derived, and .gw/env safe to `source`."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from devstack import environment
from devstack.console import GwError
from devstack.environment import Overrides
from devstack.ports import Ports
from devstack.secrets import NAMES, generate

SECRETS = {name: generate(name) for name in NAMES}
PORTS = Ports(pg=55432, redis=56379, s3=58333)


@pytest.mark.parametrize(("url", "suffix", "expected"), [
    ("postgresql+psycopg://app:pw@db:5432/gridwarden", "_test", "postgresql+psycopg://app:pw@db:5432/gridwarden_test"),
    ("postgresql+psycopg://app:pw@db/gw?sslmode=require", "_bench", "postgresql+psycopg://app:pw@db/gw_bench?sslmode=require"),
    ("postgresql://a:p%2Fq@h:1/d?x=a/b", "_test", "postgresql://a:p%2Fq@h:1/d_test?x=a/b"),
])
def test_a_suffixed_url_names_the_same_server_and_credentials(url: str, suffix: str, expected: str) -> None:
    assert environment.suffixed_db_url(url, suffix) == expected


@pytest.mark.parametrize(("url", "expected"), [
    ("redis://:pw@cache:6379/0", "redis://:pw@cache:6379/1"),
    ("redis://:pw@cache:6379", "redis://:pw@cache:6379/1"),
    ("rediss://cache:6380/5", "rediss://cache:6380/1"),
])
def test_the_tests_redis_is_the_same_server_database_one(url: str, expected: str) -> None:
    assert environment.redis_test_url(url) == expected


def test_local_services_get_urls_with_this_installations_credentials() -> None:
    env = environment.compose(Overrides({}), PORTS, SECRETS)

    app, owner = f"gridwarden_app:{SECRETS['PG_APP_PASSWORD']}", f"gridwarden_owner:{SECRETS['PG_OWNER_PASSWORD']}"
    assert env["GW_DATABASE_URL"] == f"postgresql+psycopg://{app}@127.0.0.1:55432/gridwarden"
    assert env["GW_DATABASE_OWNER_URL"] == f"postgresql+psycopg://{owner}@127.0.0.1:55432/gridwarden"
    assert env["GW_TEST_DATABASE_URL"] == f"postgresql+psycopg://{app}@127.0.0.1:55432/gridwarden_test"
    assert env["GW_REDIS_URL"] == f"redis://:{SECRETS['REDIS_PASSWORD']}@127.0.0.1:56379/0"
    assert env["GW_TEST_REDIS_URL"] == f"redis://:{SECRETS['REDIS_PASSWORD']}@127.0.0.1:56379/1"
    assert (env["GW_S3_ENDPOINT"], env["GW_S3_ACCESS_KEY"], env["GW_S3_SECURE"]) == \
           ("127.0.0.1:58333", SECRETS["S3_ACCESS_KEY"], "false")
    assert env["GW_AUTH_SIGNING_KEYS"] == SECRETS["AUTH_SIGNING_KEYS"]
    bench = environment.for_bench(env)
    assert bench["GW_DATABASE_URL"].endswith("/gridwarden_bench")
    assert bench["GW_DATABASE_OWNER_URL"].endswith("/gridwarden_bench")
    tests = environment.for_tests(env)
    assert tests["GW_DATABASE_URL"] == env["GW_TEST_DATABASE_URL"] and tests["GW_S3_BUCKET_PREFIX"] == "gw-test-"


def test_external_services_are_kept_and_their_test_endpoints_derived() -> None:
    given = {"GW_DATABASE_URL": "postgresql+psycopg://app:pw@db:5432/gw", "GW_REDIS_URL": "redis://:pw@cache:6379/0",
             "GW_S3_ENDPOINT": "s3.example:9000", "GW_S3_ACCESS_KEY": "AK", "GW_S3_SECRET_KEY": "SK",
             "GW_AUTH_SIGNING_KEYS": "mine:" + "c" * 64, "GW_UNRELATED": "x"}

    env = environment.compose(Overrides.capture(given), PORTS, SECRETS)

    assert env == {"GW_DATABASE_URL": given["GW_DATABASE_URL"], "GW_DATABASE_OWNER_URL": given["GW_DATABASE_URL"],
                   "GW_TEST_DATABASE_URL": "postgresql+psycopg://app:pw@db:5432/gw_test",
                   "GW_TEST_DATABASE_OWNER_URL": "postgresql+psycopg://app:pw@db:5432/gw_test",
                   "GW_REDIS_URL": given["GW_REDIS_URL"], "GW_TEST_REDIS_URL": "redis://:pw@cache:6379/1",
                   "GW_S3_ENDPOINT": "s3.example:9000", "GW_S3_ACCESS_KEY": "AK", "GW_S3_SECRET_KEY": "SK",
                   "GW_S3_SECURE": "false", "GW_AUTH_SIGNING_KEYS": given["GW_AUTH_SIGNING_KEYS"]}


def test_an_external_s3_without_its_keys_is_refused() -> None:
    with pytest.raises(GwError, match="set GW_S3_ACCESS_KEY and GW_S3_SECRET_KEY"):
        environment.compose(Overrides({"GW_S3_ENDPOINT": "s3.example:9000"}), PORTS, SECRETS)


def test_env_file_is_private_and_a_shell_reads_back_every_value_exactly(tmp_path: Path) -> None:
    awkward = "postgresql://u:p@h/d?application_name=it's $HOME `id` \"x\" a\\b"
    env = {**environment.compose(Overrides({}), PORTS, SECRETS), "GW_DATABASE_URL": awkward, "GW_S3_SECURE": ""}
    path = tmp_path / "env"

    environment.write(path, env)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    script = "source ./env && " + " && ".join(f'printf "%s\\0" "${name}"' for name in environment.VARIABLES)
    read = subprocess.run(["bash", "-c", script], cwd=tmp_path, env={"PATH": os.environ["PATH"]},
                          capture_output=True, text=True, check=True).stdout.split("\0")[:-1]
    assert dict(zip(environment.VARIABLES, read, strict=True)) == env
