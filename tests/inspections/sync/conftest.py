"""Fixtures of the sync tests: a registered device of the test inspector and its token; for push, a
`Device` that pushes batches through the API the way the mobile app does, items of each kind, and
row counts read as the schema owner (what was really stored)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, text

from core.permissions import Role
from tests.inspections.readings.conftest import area, meters  # noqa: F401  (fixtures of pushed readings)


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


DEVICES = "/api/v1/devices"
PUSH = "/api/v1/sync/push"
MUTATIONS = "/api/v1/sync/mutations"
BACKLOG = "/api/v1/sync/backlog"
CONFLICTS = "/api/v1/sync/conflicts"
HEFEI = (117.2272, 31.8206)
# Tables `count_rows` may read (a table name cannot be a bound parameter).
_COUNTABLE = frozenset({"sync_mutations", "sync_backlog", "sync_conflicts", "cases", "field_tasks", "findings",
                        "audit_log", "outbox_events"})


def count_rows(engine: Engine, table: str, where: str = "") -> int:
    if table not in _COUNTABLE:
        raise ValueError(f"count_rows does not know table {table!r}")
    with engine.connect() as conn:
        return conn.execute(text(f'SELECT count(*) FROM "{table}" {where}')).scalar_one()


def item(kind: str, data: dict[str, Any], *, base_version: int | None = None, uid: uuid.UUID | None = None,
         device_time: datetime | None = None) -> dict[str, Any]:
    """One pushed mutation as the app sends it."""
    body: dict[str, Any] = {"uuid": str(uid or uuid.uuid4()), "kind": kind, "data": data,
                            "device_time": (device_time or datetime.now(UTC)).isoformat()}
    if base_version is not None:
        body["base_version"] = base_version
    return body


def encroachment(description: str = "彩钢棚 under the 10 kV line", *, uid: uuid.UUID | None = None) -> dict[str, Any]:
    return item("encroachment_report", {"location": {"type": "Point", "coordinates": list(HEFEI)},
                                        "description": description}, uid=uid)


@dataclass
class Device:
    """An inspector's phone: pushes batches with its clock's time."""

    client: TestClient
    headers: dict[str, str]
    # The device's clock when it sends (the API's clock in tests that set one); None: the real time.
    clock: datetime | None = None

    def push_response(self, items: list[dict[str, Any]], *, device_time: datetime | None = None) -> Response:
        return self.client.post(PUSH, headers=self.headers, json={
            "device_time": (device_time or self.clock or datetime.now(UTC)).isoformat(), "items": items})

    def push(self, items: list[dict[str, Any]], *, device_time: datetime | None = None) -> list[dict[str, Any]]:
        """Push a batch that must be accepted; returns the per-item results."""
        response = self.push_response(items, device_time=device_time)
        assert response.status_code == 200, response.text
        results = response.json()["results"]
        assert [r["uuid"] for r in results] == [i["uuid"] for i in items]
        return results


@pytest.fixture
def device(client: TestClient, device_token: DeviceLogin) -> Device:
    """The test inspector's registered phone, pushing with its device token."""
    return Device(client=client, headers=device_token(Role.inspector, "phone-1"))
