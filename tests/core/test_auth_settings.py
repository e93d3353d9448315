"""The API refuses to start without a signing key nobody else knows."""

from __future__ import annotations

import secrets

import pytest
from pydantic import ValidationError

from api.app import create_app_from_env
from core.settings import AuthSettings, Settings

OLD_SOURCE_DEFAULT = "dev-only-secret-change-me-in-production-0123456789"


def test_missing_signing_keys_refuse_start_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GW_AUTH_SIGNING_KEYS", raising=False)

    with pytest.raises(ValidationError, match="GW_AUTH_SIGNING_KEYS is not set"):
        Settings()
    with pytest.raises(ValidationError, match="GW_AUTH_SIGNING_KEYS is not set"):
        create_app_from_env()


@pytest.mark.parametrize(("value", "message"), [
    ("k1:" + "x" * 31, "shorter than 32 characters"),
    ("k1:" + "ab" * 32, "fewer than 10 distinct characters"),
    (f"k1:{OLD_SOURCE_DEFAULT}", "published default"),
    (f"k1:{secrets.token_hex(32)},k0:{OLD_SOURCE_DEFAULT}", "published default"),
    (secrets.token_hex(32), "not 'kid:secret'"),
    (f"k1:{secrets.token_hex(32)},k1:{secrets.token_hex(32)}", "twice"),
    ("   ", "is not set"),
], ids=["short", "placeholder", "old-default", "old-default-as-previous-key", "no-kid", "duplicate-kid", "blank"])
def test_unusable_signing_keys_refuse_start(monkeypatch: pytest.MonkeyPatch, value: str, message: str) -> None:
    monkeypatch.setenv("GW_AUTH_SIGNING_KEYS", value)

    with pytest.raises(ValidationError, match=message):
        Settings()
    with pytest.raises(ValidationError, match=message):
        create_app_from_env()


def test_the_first_key_signs_and_all_verify(monkeypatch: pytest.MonkeyPatch) -> None:
    new, old = secrets.token_hex(32), secrets.token_hex(32)
    monkeypatch.setenv("GW_AUTH_SIGNING_KEYS", f"2026-11:{new}, 2026-10:{old}")

    keys = AuthSettings().keys

    assert [(k.kid, k.secret.get_secret_value()) for k in keys] == [("2026-11", new), ("2026-10", old)]
    assert new not in repr(AuthSettings())  # secrets stay out of logs and tracebacks
