"""Secrets on a temporary `.gw`: generated once in a private file of a fixed format, kept across runs,
an older file completed rather than replaced, a hand-edited bad value refused, keys rotated."""

from __future__ import annotations

import re
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from devstack import secrets
from devstack.console import GwError
from tests.ops.services import read_env_file

NOW = datetime(2026, 11, 29, 14, 0, 0, tzinfo=UTC)
OLD_KEY = "k20200101T000000Z:" + "a" * 64


def test_first_load_generates_every_secret_in_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "secrets.env"

    values, generated = secrets.load(path)

    assert generated == list(secrets.NAMES)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_env_file(path) == values
    assert path.read_text().splitlines()[0].startswith("# Secrets of this installation")
    assert re.fullmatch(r"GW[0-9A-F]{18}", values["S3_ACCESS_KEY"])
    assert re.fullmatch(r"[0-9a-f]{16}", values["DEMO_PASSWORD"])
    assert re.fullmatch(r"k\d{8}T\d{6}Z:[0-9a-f]{64}", values["AUTH_SIGNING_KEYS"])
    hex64 = [v for k, v in values.items() if k not in {"S3_ACCESS_KEY", "DEMO_PASSWORD", "AUTH_SIGNING_KEYS"}]
    assert all(re.fullmatch(r"[0-9a-f]{64}", v) for v in hex64) and len(set(hex64)) == len(hex64)
    assert secrets.load(path) == (values, [])


def test_an_older_file_keeps_its_secrets_and_gains_the_missing_ones(tmp_path: Path) -> None:
    """An installation from before the SeaweedFS keys and the demo password existed."""
    path = tmp_path / "secrets.env"
    path.write_text(f"# hand notes\nPG_OWNER_PASSWORD={'1' * 64}\nPG_APP_PASSWORD={'2' * 64}\nUNKNOWN=x\n"
                    f"AUTH_SIGNING_KEYS={OLD_KEY}\n")
    path.chmod(0o644)

    values, generated = secrets.load(path)

    assert (values["PG_OWNER_PASSWORD"], values["PG_APP_PASSWORD"]) == ("1" * 64, "2" * 64)
    assert values["AUTH_SIGNING_KEYS"] == OLD_KEY
    assert set(generated) == set(secrets.NAMES) - {"PG_OWNER_PASSWORD", "PG_APP_PASSWORD", "AUTH_SIGNING_KEYS"}
    assert read_env_file(path) == values
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize(("name", "value"), [
    ("PG_APP_PASSWORD", "x'; DROP ROLE gridwarden_owner; --"),
    ("REDIS_PASSWORD", "short"),
    ("AUTH_SIGNING_KEYS", "k1:nothex"),
    ("S3_SECRET_KEY", ""),
])
def test_a_malformed_secret_is_refused_not_used(tmp_path: Path, name: str, value: str) -> None:
    path = tmp_path / "secrets.env"
    path.write_text(f"{name}={value}\n")

    with pytest.raises(GwError, match=f"{name} in .gw/secrets.env is malformed"):
        secrets.load(path)
    assert path.read_text() == f"{name}={value}\n"


def test_rotation_puts_a_new_key_first_and_keeps_only_the_previous_one() -> None:
    older = "k20190101T000000Z:" + "b" * 64

    rotated = secrets.rotate_signing_keys(f"{OLD_KEY},{older}", now=NOW).split(",")

    assert len(rotated) == 2 and rotated[1] == OLD_KEY
    assert re.fullmatch(r"k20261129T140000Z:[0-9a-f]{64}", rotated[0])


def test_two_rotations_in_one_second_give_distinct_key_ids() -> None:
    first = secrets.rotate_signing_keys(OLD_KEY, now=NOW)
    second = secrets.rotate_signing_keys(first, now=NOW).split(",")

    kids = [key.partition(":")[0] for key in second]
    assert kids[0] != kids[1] and re.fullmatch(r"k20261129T140000Z\.[0-9a-f]{4}", kids[0])
    assert secrets.valid("AUTH_SIGNING_KEYS", ",".join(second))
