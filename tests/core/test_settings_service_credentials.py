"""The database, Redis and S3 credentials have no default: a deployment that forgot one stops at start,
saying which variable to set, instead of running with a password everyone who read the source knows."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from core.settings import DatabaseSettings, RedisSettings, S3Settings, Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
# Credentials this repository once shipped as defaults (source, compose file, init scripts). The
# service-access tests use them on purpose, to prove they are refused; nothing else may contain them.
PUBLISHED_CREDENTIALS = ("gridwarden_app_dev", "gridwarden_owner_dev", "gridwarden-dev-secret", "postgres_dev")


@pytest.fixture
def no_service_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("GW_DATABASE_URL", "GW_DATABASE_OWNER_URL", "GW_REDIS_URL", "GW_S3_ACCESS_KEY", "GW_S3_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize(("settings_class", "variables"), [
    (DatabaseSettings, ["GW_DATABASE_URL"]),
    (RedisSettings, ["GW_REDIS_URL"]),
    (S3Settings, ["GW_S3_ACCESS_KEY", "GW_S3_SECRET_KEY"]),
])
def test_a_missing_credential_stops_the_start_naming_the_variable(
        no_service_env: pytest.MonkeyPatch, settings_class: type[DatabaseSettings | RedisSettings | S3Settings],
        variables: list[str]) -> None:
    with pytest.raises(ValidationError) as refused:
        settings_class()

    for variable in variables:
        assert variable in str(refused.value)


def test_the_whole_settings_object_refuses_to_build_without_them(no_service_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="GW_DATABASE_URL"):
        Settings(environment="test")


def test_one_of_the_two_s3_keys_is_not_enough(no_service_env: pytest.MonkeyPatch) -> None:
    no_service_env.setenv("GW_S3_ACCESS_KEY", "GWEXAMPLEACCESSKEY")

    with pytest.raises(ValidationError) as refused:
        S3Settings()

    assert "GW_S3_SECRET_KEY" in str(refused.value)
    assert "GW_S3_ACCESS_KEY" not in str(refused.value)


def test_explicit_values_still_build_settings_without_any_environment(no_service_env: pytest.MonkeyPatch) -> None:
    settings = Settings(
        environment="test",
        database=DatabaseSettings(url=SecretStr("postgresql+psycopg://app:pw@db.example:5432/gridwarden")),
        redis=RedisSettings(url=SecretStr("redis://:pw@cache.example:6379/0")),
        s3=S3Settings(endpoint="s3.example:9000", access_key="GWEXAMPLEACCESSKEY",
                      secret_key=SecretStr("example-secret")),
    )

    assert settings.database.migration_url.endswith("@db.example:5432/gridwarden")
    assert settings.redis.url.get_secret_value() == "redis://:pw@cache.example:6379/0"
    assert settings.s3.secret_key.get_secret_value() == "example-secret"


def test_non_secret_defaults_remain() -> None:
    """Endpoints and tuning may default; only credentials must not."""
    assert S3Settings.model_fields["endpoint"].default == "127.0.0.1:58333"
    assert not DatabaseSettings.model_fields["pool_size"].is_required()


def _tracked_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, check=False)
    if listed.returncode == 0 and listed.stdout:
        return [REPO_ROOT / name for name in listed.stdout.decode().split("\0") if name]
    skip = {".git", ".venv", ".gw", "__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache"}
    return [p for p in REPO_ROOT.rglob("*") if p.is_file() and not skip & set(p.relative_to(REPO_ROOT).parts)]


def test_no_published_credential_is_left_outside_the_tests() -> None:
    found = []
    for path in _tracked_files():
        relative = path.relative_to(REPO_ROOT)
        if relative.parts[0] == "tests" or not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", errors="ignore")
        found += [f"{relative}: {secret}" for secret in PUBLISHED_CREDENTIALS if secret in text]

    assert found == []
