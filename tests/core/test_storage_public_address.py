"""Phones and browsers may reach object storage at another address than the API does (a public
name in front of an internal endpoint): presigned URLs, and the console's content-security policy
that lets a page show them, name that address. Signing is local: no storage server is asked."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from pydantic import SecretStr

from api.console_assets import content_security_policy
from core.settings import S3Settings
from core.storage import ObjectStorage


def internal(**public: str | bool) -> S3Settings:
    """Settings of an app that reaches storage at s3.internal:9000 (plain HTTP inside the network)."""
    return S3Settings.model_validate({"endpoint": "s3.internal:9000", "access_key": "key",
                                      "secret_key": SecretStr("secret-key-123"), **public})


def test_presigned_urls_name_the_public_address_when_one_is_set() -> None:
    storage = ObjectStorage(internal(public_endpoint="files.example.org", public_secure=True))

    put = urlsplit(storage.presigned_put(bucket="gw-evidence", key="uploads/x", expires=timedelta(minutes=5)))
    get = urlsplit(storage.presigned_get(bucket="gw-evidence", key="originals/y", expires=timedelta(minutes=5)))

    assert (put.scheme, put.netloc) == (get.scheme, get.netloc) == ("https", "files.example.org")
    assert "img-src 'self' data: blob: https://files.example.org;" in content_security_policy(storage.settings)


def test_without_a_public_address_urls_name_the_endpoint_the_app_uses() -> None:
    storage = ObjectStorage(internal())

    put = urlsplit(storage.presigned_put(bucket="gw-evidence", key="uploads/x", expires=timedelta(minutes=5)))

    assert (put.scheme, put.netloc) == ("http", "s3.internal:9000")
    assert "img-src 'self' data: blob: http://s3.internal:9000;" in content_security_policy(storage.settings)
