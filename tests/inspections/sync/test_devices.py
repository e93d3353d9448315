"""Devices: an inspector registers a phone, syncs with its token, and revoking the phone ends that
token on the very next request, even while Redis still caches the device as good."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import jwt
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from core.permissions import Role
from core.settings import Settings
from tests.inspections.sync.conftest import DeviceLogin

Auth = Callable[[Role], dict[str, str]]


def _register(client: TestClient, headers: dict[str, str], device: str = "phone-1") -> dict:
    response = client.post("/api/v1/devices", headers=headers,
                           json={"device_id": device, "name": "Li's phone", "platform": "android",
                                 "app_version": "1.4.0"})
    assert response.status_code == 201, response.text
    return response.json()


def test_registering_a_device_returns_a_long_lived_token_naming_the_device(client: TestClient, auth: Auth,
                                                                          settings: Settings,
                                                                          role_users: dict[Role, int]) -> None:
    body = _register(client, auth(Role.inspector))
    assert body["device"]["user_id"] == role_users[Role.inspector]
    assert body["device"]["client_device_id"] == "phone-1" and body["device"]["revoked_at"] is None
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["dev"] == body["device"]["id"]
    assert body["expires_in"] == int(timedelta(days=30).total_seconds())
    assert body["expires_in"] > settings.auth.token_minutes * 60


def test_registering_the_same_app_again_returns_the_same_device_with_a_fresh_token(client: TestClient,
                                                                                   auth: Auth) -> None:
    first = _register(client, auth(Role.inspector))
    again = client.post("/api/v1/devices", headers=auth(Role.inspector),
                        json={"device_id": "phone-1", "app_version": "1.5.0"})
    assert again.status_code == 200
    assert again.json()["device"]["id"] == first["device"]["id"]
    assert again.json()["device"]["app_version"] == "1.5.0"
    assert again.json()["access_token"] != first["access_token"]


def test_a_device_token_works_until_the_owner_revokes_the_device(client: TestClient, auth: Auth,
                                                                  owner_engine: Engine) -> None:
    body = _register(client, auth(Role.inspector))
    device_headers = {"Authorization": f"Bearer {body['access_token']}"}
    # Read twice: the second answer comes from the cached device state.
    assert client.get("/api/v1/devices", headers=device_headers).status_code == 200
    assert client.get("/api/v1/devices", headers=device_headers).status_code == 200

    revoked = client.post(f"/api/v1/devices/{body['device']['id']}/revoke", headers=auth(Role.inspector))
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None

    refused = client.get("/api/v1/devices", headers=device_headers)
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]
    # The person's own sign-in token is not the device's: it keeps working.
    assert client.get("/api/v1/devices", headers=auth(Role.inspector)).status_code == 200
    with owner_engine.connect() as conn:
        actions = conn.execute(text("SELECT action FROM audit_log WHERE entity_type = 'device' ORDER BY id")).scalars()
        assert list(actions) == ["device.register", "device.revoke"]


def test_a_revoked_device_is_refused_when_redis_is_unreachable(client: TestClient, auth: Auth, app) -> None:  # type: ignore[no-untyped-def]
    body = _register(client, auth(Role.inspector))
    client.post(f"/api/v1/devices/{body['device']['id']}/revoke", headers=auth(Role.inspector))
    working_cache = app.state.redis
    app.state.redis = type(working_cache).from_url("redis://127.0.0.1:1/0", socket_timeout=0.2,
                                                   socket_connect_timeout=0.2)
    try:
        response = client.get("/api/v1/devices", headers={"Authorization": f"Bearer {body['access_token']}"})
    finally:
        app.state.redis = working_cache
    assert response.status_code == 401


def test_only_the_owner_or_an_administrator_revokes_a_device(client: TestClient, auth: Auth) -> None:
    device_id = _register(client, auth(Role.inspector))["device"]["id"]
    assert client.post(f"/api/v1/devices/{device_id}/revoke", headers=auth(Role.dispatcher)).status_code == 404
    assert client.post(f"/api/v1/devices/{device_id}/revoke", headers=auth(Role.supervisor)).status_code == 403
    assert client.post(f"/api/v1/devices/{device_id}/revoke", headers=auth(Role.admin)).status_code == 200


def test_a_user_lists_their_own_devices_and_a_supervisor_lists_all(client: TestClient, auth: Auth,
                                                                   role_users: dict[Role, int]) -> None:
    _register(client, auth(Role.inspector), "phone-1")
    _register(client, auth(Role.dispatcher), "tablet-1")
    own = client.get("/api/v1/devices", headers=auth(Role.inspector)).json()
    assert [d["client_device_id"] for d in own] == ["phone-1"]
    every = client.get("/api/v1/devices", headers=auth(Role.supervisor)).json()
    assert {(d["user_id"], d["client_device_id"]) for d in every} == {
        (role_users[Role.inspector], "phone-1"), (role_users[Role.dispatcher], "tablet-1")}



def test_sync_needs_a_device_token_not_a_sign_in_token(client: TestClient, auth: Auth,
                                                       device_token: DeviceLogin) -> None:
    assert client.get("/api/v1/sync/pull", headers=auth(Role.inspector)).status_code == 403
    assert client.get("/api/v1/sync/pull", headers=device_token()).status_code == 200
