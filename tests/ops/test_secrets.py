"""./gw's secrets: generated per installation, kept private, reused, and the token signing key rotates
without cutting off tokens already issued.

Each test runs a copy of ./gw (the bootstrap and the devstack package it hands over to, with this
checkout's virtualenv) in a directory of its own (its `.gw/` is then separate from this checkout's),
with no GW_* variable inherited, and only for commands that start no service.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tests.ops.services import REPO_ROOT, read_env_file

HEX64 = r"[0-9a-f]{64}"
SIGNING_KEY = re.compile(rf"k\d{{8}}T\d{{6}}Z(\.[0-9a-f]{{4}})?:{HEX64}")
OLD_KEY = "k20200101T000000Z:" + "a" * 64
OLDER_KEY = "k20190101T000000Z:" + "b" * 64


def copy_of_gw(directory: Path) -> Path:
    directory.mkdir(exist_ok=True)
    for name in ("gw", "requirements.txt", "requirements-nodeps.txt"):
        shutil.copy2(REPO_ROOT / name, directory / name)
    shutil.copytree(REPO_ROOT / "devstack", directory / "devstack", ignore=shutil.ignore_patterns("__pycache__"))
    (directory / ".venv").symlink_to((REPO_ROOT / ".venv").resolve())
    return directory


@pytest.fixture
def installation(tmp_path: Path) -> Path:
    return copy_of_gw(tmp_path / "checkout")


def gw(installation: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GW_")}
    return subprocess.run([str(installation / "gw"), *args], cwd=installation, env=env, capture_output=True,
                          text=True, timeout=60, check=False)


def exported(installation: Path, variable: str) -> str:
    """The value .gw/env gives `variable` when a shell sources it, as developers and ./gw do."""
    return subprocess.run(["bash", "-c", f'source .gw/env && printf %s "${variable}"'], cwd=installation,
                          env={"PATH": os.environ["PATH"]}, capture_output=True, text=True, check=True).stdout


def private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == 0o600


def test_first_use_generates_every_secret_privately_and_later_runs_reuse_them(installation: Path) -> None:
    first = gw(installation, "rotate-signing-key")
    assert first.returncode == 0, first.stderr
    secrets_file = installation / ".gw" / "secrets.env"
    generated = read_env_file(secrets_file)

    assert private(secrets_file) and private(installation / ".gw" / "env")
    assert set(generated) == {"PG_OWNER_PASSWORD", "PG_APP_PASSWORD", "REDIS_PASSWORD", "S3_ACCESS_KEY",
                              "S3_SECRET_KEY", "WEED_JWT_WRITE_KEY", "WEED_JWT_READ_KEY", "WEED_FILER_JWT_WRITE_KEY",
                              "WEED_FILER_JWT_READ_KEY", "AUTH_SIGNING_KEYS", "DEMO_PASSWORD"}
    passwords = {k: v for k, v in generated.items() if k not in {"S3_ACCESS_KEY", "AUTH_SIGNING_KEYS", "DEMO_PASSWORD"}}
    assert all(re.fullmatch(HEX64, v) for v in passwords.values()), passwords
    assert len(set(passwords.values())) == len(passwords)
    assert re.fullmatch(r"GW[0-9A-F]{18}", generated["S3_ACCESS_KEY"])
    assert re.fullmatch(r"[0-9a-f]{16}", generated["DEMO_PASSWORD"])  # typed by people trying the demo

    other_installation = copy_of_gw(installation.parent / "other")
    assert gw(other_installation, "rotate-signing-key").returncode == 0
    assert read_env_file(other_installation / ".gw" / "secrets.env")["PG_APP_PASSWORD"] != generated["PG_APP_PASSWORD"]

    secrets_file.write_text(secrets_file.read_text().replace(generated["AUTH_SIGNING_KEYS"], OLD_KEY))
    again = gw(installation, "rotate-signing-key")
    assert again.returncode == 0, again.stderr
    reused = read_env_file(secrets_file)
    assert {k: v for k, v in reused.items() if k != "AUTH_SIGNING_KEYS"} == \
           {k: v for k, v in generated.items() if k != "AUTH_SIGNING_KEYS"}


def test_rotation_prepends_a_new_key_and_keeps_only_the_previous_one(installation: Path) -> None:
    (installation / ".gw").mkdir()
    (installation / ".gw" / "secrets.env").write_text(f"AUTH_SIGNING_KEYS={OLD_KEY},{OLDER_KEY}\n")

    rotated = gw(installation, "rotate-signing-key")

    assert rotated.returncode == 0, rotated.stderr
    keys = read_env_file(installation / ".gw" / "secrets.env")["AUTH_SIGNING_KEYS"].split(",")
    assert len(keys) == 2 and SIGNING_KEY.fullmatch(keys[0]) and keys[1] == OLD_KEY
    assert exported(installation, "GW_AUTH_SIGNING_KEYS") == f"{keys[0]},{OLD_KEY}"


def test_a_malformed_secret_is_refused_not_used(installation: Path) -> None:
    (installation / ".gw").mkdir()
    (installation / ".gw" / "secrets.env").write_text("PG_APP_PASSWORD=x'; DROP ROLE gridwarden_owner; --\n")

    refused = gw(installation, "rotate-signing-key")

    assert refused.returncode != 0
    assert "PG_APP_PASSWORD in .gw/secrets.env is malformed" in refused.stderr


def test_compose_env_writes_every_variable_the_compose_file_requires_once(installation: Path) -> None:
    required = set(re.findall(r"\$\{(\w+):\?", (REPO_ROOT / "docker-compose.yml").read_text()))

    written = gw(installation, "compose-env")
    again = gw(installation, "compose-env")

    assert written.returncode == 0, written.stderr
    values = read_env_file(installation / ".env")
    assert set(values) == required
    assert private(installation / ".env")
    assert again.returncode != 0 and read_env_file(installation / ".env") == values
