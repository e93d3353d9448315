"""Fixtures of the sync tests: a registered device of the test inspector and its token."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis
from fastapi.testclient import TestClient

from core.permissions import Role


@pytest.fixture(autouse=True)
def forget_cached_devices(redis_client: redis.Redis) -> None:
    """Device ids restart at 1 in every test; a cached state from an earlier test must not answer."""
    keys = list(redis_client.scan_iter("gw:device:*", count=1000))
    if keys:
        redis_client.delete(*keys)


DeviceLogin = Callable[..., dict[str, str]]


@pytest.fixture
def device_token(client: TestClient, auth: Callable[[Role], dict[str, str]]) -> DeviceLogin:
    """`device_token(Role.inspector, "phone-1")` registers that device for the role's test user and
    returns the Authorization header of its device token."""

    def register(role: Role = Role.inspector, device: str = "phone-1") -> dict[str, str]:
        response = client.post("/api/v1/devices", headers=auth(role),
                               json={"client_device_id": device, "name": "Field phone", "platform": "android",
                                     "app_version": "1.4.0"})
        assert response.status_code in (200, 201), response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    return register
