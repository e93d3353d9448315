"""Personal access tokens: what a GIS analyst stores in QGIS or GDAL instead of a password. Created,
listed and revoked by their owner only, shown once, stored hashed, audited; accepted as a bearer token
and as the HTTP Basic password with the owner's username; carrying the owner's current role only."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker

from core.audit.models import AuditRecord
from core.permissions import Role
from core.settings import Settings
from core.users.models import PersonalAccessToken

TOKENS = "/api/v1/users/me/tokens"
# A route every role may read, and one only administrators may.
ANY_ROLE_READ = "/api/v1/network/lines"
ADMIN_ONLY = "/api/v1/users"

Auth = Callable[[Role], dict[str, str]]


def create(client: TestClient, headers: dict[str, str], name: str = "QGIS laptop", **body: object) -> dict[str, object]:
    response = client.post(TOKENS, json={"name": name, **body}, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    return created


def bearer(secret: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def basic(username: str, secret: object) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{secret}".encode()).decode()}


def test_a_token_is_shown_once_listed_without_its_secret_and_stored_as_a_hash(
        client: TestClient, auth: Auth, session_factory: sessionmaker[Session], settings: Settings) -> None:
    created = create(client, auth(Role.inspector))
    secret = str(created["token"])

    listed = client.get(TOKENS, headers=auth(Role.inspector)).json()

    assert secret.startswith("gwpat_") and len(secret) > 40
    assert [t["name"] for t in listed] == ["QGIS laptop"]
    assert "token" not in listed[0] and listed[0]["prefix"] == secret[:12]
    expires = datetime.fromisoformat(listed[0]["expires_at"]) - datetime.fromisoformat(listed[0]["created_at"])
    assert expires == timedelta(days=settings.auth.pat_default_days)
    with session_factory() as db:
        row = db.scalars(select(PersonalAccessToken)).one()
        stored = db.execute(text("SELECT row_to_json(t)::text FROM personal_access_tokens t")).scalar_one()
    assert row.secret_sha256 == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in stored and secret[len("gwpat_"):] not in stored


def test_bearer_and_basic_both_open_the_api_and_a_wrong_username_does_not(
        client: TestClient, auth: Auth) -> None:
    secret = create(client, auth(Role.inspector))["token"]

    assert client.get(ANY_ROLE_READ, headers=bearer(secret)).status_code == 200
    assert client.get(ANY_ROLE_READ, headers=basic("test-inspector", secret)).status_code == 200
    assert client.get(ANY_ROLE_READ, headers=basic("test-admin", secret)).status_code == 401
    assert client.get(ANY_ROLE_READ, headers=bearer(str(secret) + "x")).status_code == 401


def test_basic_never_takes_the_account_password(client: TestClient, role_users: dict[Role, int]) -> None:
    """Basic with a password would be a second, unthrottled way to guess passwords."""
    response = client.get(ANY_ROLE_READ, headers=basic("test-inspector", "inspector-password"))

    assert response.status_code == 401
    assert "personal access token" in response.json()["detail"]


def test_a_token_carries_its_owners_current_role_and_nothing_more(
        client: TestClient, auth: Auth, role_users: dict[Role, int]) -> None:
    secret = create(client, auth(Role.dispatcher))["token"]
    assert client.get(ADMIN_ONLY, headers=bearer(secret)).status_code == 403

    promoted = client.put(f"/api/v1/users/{role_users[Role.dispatcher]}/role", json={"role": "admin"},
                          headers=auth(Role.admin))
    assert promoted.status_code == 200
    assert client.get(ADMIN_ONLY, headers=bearer(secret)).status_code == 200

    demoted = client.put(f"/api/v1/users/{role_users[Role.dispatcher]}/role", json={"role": "dispatcher"},
                         headers=auth(Role.admin))
    assert demoted.status_code == 200
    assert client.get(ADMIN_ONLY, headers=bearer(secret)).status_code == 403


def test_disabling_the_owner_stops_the_token_at_once(client: TestClient, auth: Auth,
                                                      role_users: dict[Role, int]) -> None:
    secret = create(client, auth(Role.approver))["token"]
    assert client.get(ANY_ROLE_READ, headers=bearer(secret)).status_code == 200

    disabled = client.post(f"/api/v1/users/{role_users[Role.approver]}/disable", headers=auth(Role.admin))

    assert disabled.status_code == 200
    assert client.get(ANY_ROLE_READ, headers=bearer(secret)).status_code == 401
    assert client.get(ANY_ROLE_READ, headers=basic("test-approver", secret)).status_code == 401


def test_a_revoked_token_is_refused_and_the_revocation_is_audited(
        client: TestClient, auth: Auth, session_factory: sessionmaker[Session]) -> None:
    created = create(client, auth(Role.inspector))
    assert client.get(ANY_ROLE_READ, headers=bearer(created["token"])).status_code == 200

    revoked = client.delete(f"{TOKENS}/{created['id']}", headers=auth(Role.inspector))

    assert revoked.status_code == 204
    assert client.get(ANY_ROLE_READ, headers=bearer(created["token"])).status_code == 401
    assert client.get(TOKENS, headers=auth(Role.inspector)).json()[0]["revoked_at"] is not None
    with session_factory() as db:
        records = list(db.scalars(select(AuditRecord).where(AuditRecord.entity_type == "personal_token")
                                  .order_by(AuditRecord.id)))
    assert [(r.action, r.actor_name) for r in records] == [("personal_token.create", "test-inspector"),
                                                                ("personal_token.revoke", "test-inspector")]
    assert records[1].before["revoked_at"] is None and records[1].after["revoked_at"] is not None
    assert str(created["token"]) not in str([r.before for r in records] + [r.after for r in records])


def test_another_users_token_is_neither_listed_nor_revocable(client: TestClient, auth: Auth) -> None:
    mine = create(client, auth(Role.inspector))

    assert client.get(TOKENS, headers=auth(Role.admin)).json() == []
    assert client.delete(f"{TOKENS}/{mine['id']}", headers=auth(Role.admin)).status_code == 404
    assert client.get(ANY_ROLE_READ, headers=bearer(mine["token"])).status_code == 200


def test_an_expired_token_is_refused_and_the_lifetime_is_bounded(
        client: TestClient, auth: Auth, session_factory: sessionmaker[Session], settings: Settings) -> None:
    created = create(client, auth(Role.inspector), expires_in_days=1)
    too_long = client.post(TOKENS, json={"name": "forever", "expires_in_days": settings.auth.pat_max_days + 1},
                           headers=auth(Role.inspector))
    with session_factory() as db, db.begin():
        db.execute(update(PersonalAccessToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))

    assert too_long.status_code == 422 and too_long.json()["errors"][0]["field"] == "expires_in_days"
    assert client.get(ANY_ROLE_READ, headers=bearer(created["token"])).status_code == 401


def test_a_token_cannot_mint_credentials_or_change_the_password(client: TestClient, auth: Auth) -> None:
    """A token stored in a GIS client must not outlive its revocation through a credential it made."""
    secret = create(client, auth(Role.inspector))["token"]

    another = client.post(TOKENS, json={"name": "second"}, headers=bearer(secret))
    password = client.post("/api/v1/auth/password", json={"old_password": "inspector-password",
                                                          "new_password": "another-password"}, headers=bearer(secret))
    device = client.post("/api/v1/devices", json={"client_device_id": "tablet-1"}, headers=bearer(secret))
    sign_out = client.post("/api/v1/auth/sign-out", headers=bearer(secret))

    assert (another.status_code, password.status_code, device.status_code, sign_out.status_code) == (403,) * 4
    assert len(client.get(TOKENS, headers=bearer(secret)).json()) == 1
    assert client.get(ANY_ROLE_READ, headers=bearer(secret)).status_code == 200


def test_last_use_is_recorded_at_most_once_per_interval(
        client: TestClient, auth: Auth, session_factory: sessionmaker[Session]) -> None:
    secret = create(client, auth(Role.inspector))["token"]
    assert client.get(TOKENS, headers=auth(Role.inspector)).json()[0]["last_used_at"] is None

    client.get(ANY_ROLE_READ, headers=bearer(secret))
    first = client.get(TOKENS, headers=auth(Role.inspector)).json()[0]["last_used_at"]
    client.get(ANY_ROLE_READ, headers=bearer(secret))
    second = client.get(TOKENS, headers=auth(Role.inspector)).json()[0]["last_used_at"]

    assert first is not None and second == first
