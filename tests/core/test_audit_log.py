"""The audit log is append-only and answers 'who changed what, when, from what to what'."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from core.permissions import Role

SUBSTATION = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [11.5, 53.6]},
              "properties": {"external_id": "SS-1", "name": "Nordtor", "nominal_kv": 20}}


def _write_something(client: TestClient, headers: dict[str, str]) -> int:
    created = client.post("/api/v1/network/substations", json=SUBSTATION, headers=headers)
    assert created.status_code == 201, created.text
    feature_id = created.json()["id"]
    changed = client.patch(f"/api/v1/network/substations/{feature_id}",
                           json={"properties": {"name": "Nordtor 2"}},
                           headers={**headers, "If-Match": '"1"', "X-Request-ID": "req-audit-1"})
    assert changed.status_code == 200, changed.text
    return feature_id


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET actor_name = 'someone else'", "DELETE FROM audit_log",
                                       "TRUNCATE audit_log"])
def test_application_role_cannot_rewrite_history(client: TestClient, auth: Callable[[Role], dict[str, str]],
                                                 app_engine: Engine, statement: str) -> None:
    _write_something(client, auth(Role.dispatcher))

    with pytest.raises(DBAPIError, match="permission denied"), app_engine.begin() as conn:
        conn.execute(text(statement))


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET actor_name = 'someone else'", "DELETE FROM audit_log"])
def test_even_the_schema_owner_cannot_update_or_delete_records(client: TestClient,
                                                               auth: Callable[[Role], dict[str, str]],
                                                               owner_engine: Engine, statement: str) -> None:
    _write_something(client, auth(Role.dispatcher))

    with pytest.raises(DBAPIError, match="append-only"), owner_engine.begin() as conn:
        conn.execute(text(statement))


def test_a_change_is_recorded_with_actor_time_request_and_before_after(
    client: TestClient, auth: Callable[[Role], dict[str, str]]
) -> None:
    feature_id = _write_something(client, auth(Role.dispatcher))

    response = client.get("/api/v1/audit", params={"entity_type": "substation", "entity_id": str(feature_id)},
                          headers=auth(Role.auditor))

    assert response.status_code == 200
    update, create = response.json()["items"]  # newest first
    assert update["action"] == "substation.update" and create["action"] == "substation.create"
    assert update["actor_name"] == "test-dispatcher" and update["actor_role"] == "dispatcher"
    assert update["request_id"] == "req-audit-1"
    assert update["before"]["name"] == "Nordtor" and update["after"]["name"] == "Nordtor 2"
    assert update["before"]["version"] == 1 and update["after"]["version"] == 2
    assert create["before"] is None and create["after"]["geometry"]["coordinates"] == [11.5, 53.6]


def test_audit_log_filters_by_actor_and_time(client: TestClient, auth: Callable[[Role], dict[str, str]]) -> None:
    _write_something(client, auth(Role.dispatcher))
    client.post("/api/v1/network/substations", json={**SUBSTATION, "properties": {"external_id": "SS-2"}},
                headers=auth(Role.admin))
    admin_headers = auth(Role.admin)

    by_admin = client.get("/api/v1/audit", params={"actor": "test-admin"}, headers=admin_headers).json()["items"]
    everything = client.get("/api/v1/audit", headers=admin_headers).json()["items"]
    newest = everything[0]["occurred_at"]
    since_newest = client.get("/api/v1/audit", params={"since": newest}, headers=admin_headers).json()["items"]
    future = client.get("/api/v1/audit", params={"since": "2999-01-01T00:00:00Z"}, headers=admin_headers).json()

    assert [r["actor_name"] for r in by_admin] == ["test-admin"]
    assert len(everything) == 3
    assert len(since_newest) >= 1 and all(r["occurred_at"] >= newest for r in since_newest)
    assert future["items"] == []


def test_audit_pages_follow_the_cursor_without_gaps(client: TestClient,
                                                    auth: Callable[[Role], dict[str, str]]) -> None:
    headers = auth(Role.admin)
    for n in range(5):
        client.post("/api/v1/network/substations",
                    json={**SUBSTATION, "properties": {"external_id": f"SS-page-{n}"}}, headers=headers)

    seen: list[int] = []
    params: dict[str, str | int] = {"limit": 2}
    while True:
        page = client.get("/api/v1/audit", params=params, headers=headers).json()
        seen += [r["id"] for r in page["items"]]
        if not page["next_cursor"]:
            break
        params = {"limit": 2, "cursor": page["next_cursor"]}

    assert seen == sorted(seen, reverse=True) and len(seen) == len(set(seen)) == 5
