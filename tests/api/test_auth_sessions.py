"""Sessions end when they should: forged and rotated keys, disabled users, role and password changes,
sign-out, sign-in throttling shared by every API process, and what happens when Redis is down."""

from __future__ import annotations

import secrets
import socket
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import jwt
import pytest
import redis
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from core.audit.models import AuditRecord
from core.context import Actor
from core.permissions import Role
from core.settings import AuthSettings, RedisSettings, Settings
from core.users import service as user_service
from core.users.models import User
from core.users.schemas import UserCreate
from tests.conftest import bearer, forget_sessions_and_throttles

TOKEN = "/api/v1/auth/token"
USERS = "/api/v1/users"
OLD_SOURCE_DEFAULT = "dev-only-secret-change-me-in-production-0123456789"

NewUser = Callable[..., tuple[int, str, str]]


@pytest.fixture
def new_user(session_factory: sessionmaker[Session]) -> NewUser:
    """`new_user(Role.dispatcher)` -> (id, username, password) of a fresh account of its own."""

    def make(role: Role = Role.dispatcher) -> tuple[int, str, str]:
        username = f"s-{role.value}-{uuid.uuid4().hex[:10]}"
        password = f"pw-{uuid.uuid4().hex}"
        with session_factory() as db, db.begin():
            user = user_service.create(db=db, actor=Actor.system("tests"),
                                       user_in=UserCreate(username=username, role=role, password=password))
            return user.id, username, password

    return make


def sign_in(client: TestClient, username: str, password: str) -> dict[str, str]:
    response = client.post(TOKEN, data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def audit_records(session_factory: sessionmaker[Session], action: str) -> list[AuditRecord]:
    with session_factory() as db:
        return list(db.scalars(select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.id)))


def with_keys(settings: Settings, value: str) -> Settings:
    return settings.model_copy(update={"auth": AuthSettings(signing_keys=SecretStr(value))})


# --- signing keys -------------------------------------------------------------------------------------


def test_token_forged_with_the_old_source_default_is_refused(
        client: TestClient, settings: Settings, role_users: dict[Role, int]) -> None:
    now = datetime.now(UTC)
    claims = {"sub": str(role_users[Role.admin]), "name": "ghost", "role": "admin", "ver": 0,
              "jti": uuid.uuid4().hex, "iss": settings.auth.issuer, "iat": now, "exp": now + timedelta(minutes=5)}
    with_our_kid = jwt.encode(claims, OLD_SOURCE_DEFAULT, algorithm="HS256",
                              headers={"kid": settings.auth.keys[0].kid})
    without_kid = jwt.encode(claims, OLD_SOURCE_DEFAULT, algorithm="HS256")

    for forged in (with_our_kid, without_kid):
        response = client.get("/api/v1/audit", headers={"Authorization": f"Bearer {forged}"})
        assert response.status_code == 401, response.text
        assert response.headers["content-type"] == "application/problem+json"


@pytest.fixture
def two_key_generations(settings: Settings, owner_engine: Engine) -> tuple[Settings, Settings, Settings]:
    """Before rotation (old key only), after (new key signs, old verifies), after retiring the old key."""
    old, new = secrets.token_hex(32), secrets.token_hex(32)
    return (with_keys(settings, f"old:{old}"), with_keys(settings, f"new:{new},old:{old}"),
            with_keys(settings, f"new:{new}"))


def test_after_rotation_tokens_of_the_previous_key_work_until_it_is_retired(
        two_key_generations: tuple[Settings, Settings, Settings], session_factory: sessionmaker[Session],
        role_users: dict[Role, int]) -> None:
    before, rotated, retired = two_key_generations
    old_token = bearer(before, session_factory, role_users[Role.admin])
    new_token = bearer(rotated, session_factory, role_users[Role.admin])

    assert jwt.get_unverified_header(new_token["Authorization"].split()[1])["kid"] == "new"
    with TestClient(create_app(rotated)) as client:
        assert client.get(USERS, headers=old_token).status_code == 200
        assert client.get(USERS, headers=new_token).status_code == 200
    with TestClient(create_app(retired)) as client:
        assert client.get(USERS, headers=old_token).status_code == 401
        assert client.get(USERS, headers=new_token).status_code == 200


def test_a_token_naming_an_unknown_key_id_is_refused(
        client: TestClient, settings: Settings, session_factory: sessionmaker[Session],
        role_users: dict[Role, int]) -> None:
    # A real token re-signed under a kid the server does not have, with a secret of its own.
    good = bearer(settings, session_factory, role_users[Role.admin])["Authorization"].split()[1]
    claims = jwt.decode(good, options={"verify_signature": False})
    stranger = jwt.encode(claims, secrets.token_hex(32), algorithm="HS256", headers={"kid": "not-ours"})

    response = client.get(USERS, headers={"Authorization": f"Bearer {stranger}"})

    assert response.status_code == 401


# --- tokens do not outlive their user -----------------------------------------------------------------


def test_a_disabled_users_token_fails_on_the_very_next_request(
        client: TestClient, auth: Callable[[Role], dict[str, str]], new_user: NewUser,
        session_factory: sessionmaker[Session]) -> None:
    user_id, username, password = new_user(Role.dispatcher)
    token = sign_in(client, username, password)
    assert client.get("/api/v1/network/lines", headers=token).status_code == 200  # the state is cached now

    disabled = client.post(f"{USERS}/{user_id}/disable", headers=auth(Role.admin))

    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["is_active"] is False
    assert client.get("/api/v1/network/lines", headers=token).status_code == 401
    assert client.post(TOKEN, data={"username": username, "password": password}).status_code == 401
    record = audit_records(session_factory, "user.disable")[-1]
    assert record.entity_id == str(user_id) and record.actor_name == "test-admin"
    assert record.before is not None and record.after is not None
    assert (record.before["is_active"], record.after["is_active"]) == (True, False)

    enabled = client.post(f"{USERS}/{user_id}/enable", headers=auth(Role.admin))

    assert enabled.status_code == 200 and enabled.json()["is_active"] is True
    assert client.get("/api/v1/network/lines", headers=token).status_code == 401  # stays dead
    assert client.get("/api/v1/network/lines", headers=sign_in(client, username, password)).status_code == 200
    assert len(audit_records(session_factory, "user.enable")) >= 1


def test_a_role_change_takes_effect_at_once(
        client: TestClient, auth: Callable[[Role], dict[str, str]], new_user: NewUser,
        session_factory: sessionmaker[Session]) -> None:
    user_id, username, password = new_user(Role.admin)
    as_admin = sign_in(client, username, password)
    assert client.get(USERS, headers=as_admin).status_code == 200

    changed = client.put(f"{USERS}/{user_id}/role", json={"role": "inspector"}, headers=auth(Role.admin))

    assert changed.status_code == 200, changed.text
    assert changed.json()["role"] == "inspector"
    assert client.get(USERS, headers=as_admin).status_code == 401
    assert client.get(USERS, headers=sign_in(client, username, password)).status_code == 403
    record = audit_records(session_factory, "user.role_change")[-1]
    assert record.before is not None and record.after is not None
    assert (record.before["role"], record.after["role"]) == ("admin", "inspector")


def test_only_user_managers_disable_enable_or_change_roles(
        client: TestClient, auth: Callable[[Role], dict[str, str]], new_user: NewUser) -> None:
    user_id, _, _ = new_user(Role.inspector)

    assert client.post(f"{USERS}/{user_id}/disable", headers=auth(Role.dispatcher)).status_code == 403
    assert client.put(f"{USERS}/{user_id}/role", json={"role": "admin"},
                      headers=auth(Role.inspector)).status_code == 403
    assert client.post(f"{USERS}/999999/disable", headers=auth(Role.admin)).status_code == 404
    assert client.put(f"{USERS}/{user_id}/role", json={"role": "boss"}, headers=auth(Role.admin)).status_code == 422


@pytest.fixture
def sole_admin(new_user: NewUser, session_factory: sessionmaker[Session], owner_engine: Engine
               ) -> Iterator[tuple[int, str, str]]:
    """A fresh admin who is, for the test, the only active one (the others are disabled meanwhile)."""
    admin = new_user(Role.admin)
    with owner_engine.begin() as conn:
        others = list(conn.execute(text(
            "UPDATE users SET is_active = false, token_version = token_version + 1 "
            "WHERE role = 'admin' AND is_active AND id <> :id RETURNING id"), {"id": admin[0]}).scalars())
    yield admin
    with owner_engine.begin() as conn:
        conn.execute(text("UPDATE users SET is_active = true WHERE id = ANY(:ids)"), {"ids": others})


def test_the_last_active_admin_cannot_be_disabled_or_demoted(
        client: TestClient, sole_admin: tuple[int, str, str], new_user: NewUser) -> None:
    admin_id, username, password = sole_admin
    token = sign_in(client, username, password)

    for response in (client.post(f"{USERS}/{admin_id}/disable", headers=token),
                     client.put(f"{USERS}/{admin_id}/role", json={"role": "auditor"}, headers=token)):
        assert response.status_code == 409, response.text
        assert "last active administrator" in response.json()["detail"]
    assert client.get(USERS, headers=token).status_code == 200  # nothing changed, still signed in

    second_id, _, _ = new_user(Role.admin)
    assert client.post(f"{USERS}/{admin_id}/disable", headers=token).status_code == 200
    assert client.get(USERS, headers=token).status_code == 401
    assert second_id != admin_id


def test_sign_out_revokes_only_the_token_it_was_sent_with(
        client: TestClient, new_user: NewUser, session_factory: sessionmaker[Session]) -> None:
    user_id, username, password = new_user(Role.inspector)
    phone, tablet = sign_in(client, username, password), sign_in(client, username, password)
    assert client.get("/api/v1/network/lines", headers=phone).status_code == 200

    signed_out = client.post("/api/v1/auth/sign-out", headers=phone)

    assert signed_out.status_code == 204
    assert client.get("/api/v1/network/lines", headers=phone).status_code == 401
    assert client.post("/api/v1/auth/sign-out", headers=phone).status_code == 401
    assert client.get("/api/v1/network/lines", headers=tablet).status_code == 200
    assert audit_records(session_factory, "auth.sign_out")[-1].entity_id == str(user_id)


def test_a_password_change_revokes_the_other_tokens_and_returns_a_fresh_one(
        client: TestClient, new_user: NewUser, session_factory: sessionmaker[Session]) -> None:
    user_id, username, password = new_user(Role.approver)
    this_device, other_device = sign_in(client, username, password), sign_in(client, username, password)

    wrong = client.post("/api/v1/auth/password", json={"old_password": "not-it", "new_password": "n3w-passw0rd"},
                        headers=this_device)
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "old_password"

    changed = client.post("/api/v1/auth/password", json={"old_password": password, "new_password": "n3w-passw0rd"},
                          headers=this_device)

    assert changed.status_code == 200, changed.text
    fresh = {"Authorization": f"Bearer {changed.json()['access_token']}"}
    assert client.get("/api/v1/network/lines", headers=other_device).status_code == 401
    assert client.get("/api/v1/network/lines", headers=this_device).status_code == 401
    assert client.get("/api/v1/network/lines", headers=fresh).status_code == 200
    assert client.post(TOKEN, data={"username": username, "password": password}).status_code == 401
    assert client.post(TOKEN, data={"username": username, "password": "n3w-passw0rd"}).status_code == 200
    record = audit_records(session_factory, "user.password_change")[-1]
    assert record.entity_id == str(user_id) and "password_hash" not in (record.after or {})


# --- sign-in throttling ---------------------------------------------------------------------------------


def hammer(clients: list[TestClient], username: str, times: int = 50) -> list[int]:
    """`times` wrong passwords, spread over the given API instances in turn; the statuses."""
    return [clients[i % len(clients)].post(TOKEN, data={"username": username, "password": f"wrong-{i}"}).status_code
            for i in range(times)]


@pytest.fixture
def two_instances(settings: Settings, owner_engine: Engine) -> Iterator[list[TestClient]]:
    """Two API processes' worth of app (own engines, own Redis clients) on the same Redis and database."""
    with TestClient(create_app(settings)) as first, TestClient(create_app(settings)) as second:
        yield [first, second]


def test_fifty_wrong_passwords_lock_the_account_across_instances(
        two_instances: list[TestClient], new_user: NewUser, session_factory: sessionmaker[Session],
        settings: Settings) -> None:
    _, username, password = new_user(Role.dispatcher)

    statuses = hammer(two_instances, username)
    right = two_instances[1].post(TOKEN, data={"username": username, "password": password})

    assert statuses[:settings.auth.signin_free_attempts] == [401] * settings.auth.signin_free_attempts
    assert set(statuses) == {401, 429}
    assert right.status_code == 429
    assert right.headers["content-type"] == "application/problem+json"
    assert int(right.headers["Retry-After"]) > settings.auth.signin_lock_s - 60
    locks = [r for r in audit_records(session_factory, "auth.signin.locked") if r.entity_id == username]
    assert len(locks) == 1
    assert locks[0].actor_name == "system:sign-in"
    assert locks[0].after is not None and locks[0].after["attempted_username"] == username
    assert audit_records(session_factory, "auth.signin.delayed")  # the delays before the lock, too


def test_an_unknown_username_is_throttled_exactly_like_a_known_one(
        settings: Settings, owner_engine: Engine, new_user: NewUser, session_factory: sessionmaker[Session],
        redis_client: redis.Redis) -> None:
    _, known, _ = new_user(Role.dispatcher)
    unknown = f"nobody-{uuid.uuid4().hex[:8]}"
    # Delays long enough that a slow machine cannot let one expire between two attempts of the run.
    patient = settings.model_copy(update={"auth": settings.auth.model_copy(update={"signin_backoff_base_s": 60})})

    with TestClient(create_app(patient)) as client:
        known_statuses = hammer([client], known, times=15)
        known_last = client.post(TOKEN, data={"username": known, "password": "x"})
        forget_sessions_and_throttles(redis_client)  # the same address made both runs
        unknown_statuses = hammer([client], unknown, times=15)
        unknown_last = client.post(TOKEN, data={"username": unknown, "password": "x"})

    assert unknown_statuses == known_statuses
    assert unknown_last.status_code == known_last.status_code == 429
    assert unknown_last.json()["detail"] == known_last.json()["detail"]
    assert abs(int(unknown_last.headers["Retry-After"]) - int(known_last.headers["Retry-After"])) <= 2
    locked = {r.entity_id for r in audit_records(session_factory, "auth.signin.locked")}
    assert {known, unknown} <= locked


def test_many_accounts_tried_from_one_address_lock_the_address(
        settings: Settings, owner_engine: Engine, new_user: NewUser, session_factory: sessionmaker[Session]) -> None:
    _, username, password = new_user(Role.dispatcher)
    attacker = ("203.0.113.7", 40000)
    with TestClient(create_app(settings), client=attacker) as client, \
            TestClient(create_app(settings), client=("198.51.100.2", 40000)) as colleague:
        statuses = [client.post(TOKEN, data={"username": f"guess-{i}", "password": "x"}).status_code
                    for i in range(settings.auth.signin_lock_after_per_address)]
        right_from_attacker = client.post(TOKEN, data={"username": username, "password": password})
        right_from_elsewhere = colleague.post(TOKEN, data={"username": username, "password": password})

    assert statuses[:settings.auth.signin_free_attempts_per_address] == \
        [401] * settings.auth.signin_free_attempts_per_address
    assert right_from_attacker.status_code == 429 and "Retry-After" in right_from_attacker.headers
    assert right_from_elsewhere.status_code == 200
    assert any(r.entity_id == attacker[0] for r in audit_records(session_factory, "auth.signin.locked"))


# --- Redis down -----------------------------------------------------------------------------------------


@pytest.fixture
def redis_down(settings: Settings, owner_engine: Engine) -> Iterator[TestClient]:
    """The API with its Redis URL on a port that refuses connections (bound, never listening)."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        broken = settings.model_copy(update={"redis": RedisSettings(url=SecretStr(f"redis://127.0.0.1:{port}/1"))})
        with TestClient(create_app(broken), raise_server_exceptions=False) as client:
            yield client


def test_redis_down_closes_sign_in_but_authenticated_reads_keep_working(
        redis_down: TestClient, new_user: NewUser, settings: Settings, session_factory: sessionmaker[Session],
        auth: Callable[[Role], dict[str, str]]) -> None:
    user_id, username, password = new_user(Role.dispatcher)

    refused = redis_down.post(TOKEN, data={"username": username, "password": password})

    assert refused.status_code == 503
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["content-type"] == "application/problem+json"
    token = bearer(settings, session_factory, user_id)
    assert redis_down.get("/api/v1/network/lines", headers=token).status_code == 200
    assert redis_down.get(USERS, headers=auth(Role.admin)).status_code == 200
    # Revocation still holds without Redis: it is kept in the database.
    assert redis_down.post("/api/v1/auth/sign-out", headers=token).status_code == 204
    assert redis_down.get("/api/v1/network/lines", headers=token).status_code == 401


def test_sign_in_rejects_control_characters_in_the_username(client: TestClient) -> None:
    response = client.post(TOKEN, data={"username": "admin\x00", "password": "x"})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "username"


# --- users: what is written can be read ------------------------------------------------------------------


def qualification(**changes: object) -> dict[str, object]:
    return {"certificate_type": "live-line", "certificate_number": "LL-1", "max_voltage_kv": 10,
            "valid_until": "2030-01-01", **changes}


@pytest.mark.parametrize(("field", "value"), [
    ("max_voltage_kv", 0.001), ("max_voltage_kv", 10.005), ("max_voltage_kv", 0), ("max_voltage_kv", 1000.01),
    ("certificate_type", "x" * 101), ("certificate_number", "x" * 101), ("certificate_type", "a\x00b"),
])
def test_a_qualification_the_column_cannot_hold_is_refused_and_the_list_stays_readable(
        client: TestClient, auth: Callable[[Role], dict[str, str]], field: str, value: object,
        session_factory: sessionmaker[Session]) -> None:
    username = f"q-{uuid.uuid4().hex[:10]}"
    body = {"username": username, "role": "inspector", "password": "inspector-pw",
            "qualifications": [qualification(**{field: value})]}

    response = client.post(USERS, json=body, headers=auth(Role.admin))

    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == f"qualifications.0.{field}"
    with session_factory() as db:
        assert db.scalar(select(User).where(User.username == username)) is None
    assert client.get(USERS, headers=auth(Role.admin)).status_code == 200


def test_two_decimal_voltages_are_stored_as_given(client: TestClient, auth: Callable[[Role], dict[str, str]]) -> None:
    body = {"username": f"q-{uuid.uuid4().hex[:10]}", "role": "inspector", "password": "inspector-pw",
            "qualifications": [qualification(max_voltage_kv=0.38), qualification(max_voltage_kv="35.25")]}

    response = client.post(USERS, json=body, headers=auth(Role.admin))

    assert response.status_code == 201, response.text
    assert [q["max_voltage_kv"] for q in response.json()["qualifications"]] == [0.38, 35.25]


@pytest.mark.parametrize(("field", "value"), [("full_name", "x" * 201), ("username", "x" * 101),
                                              ("full_name", "a\x00b"), ("password", "x" * 201)])
def test_user_fields_longer_than_their_columns_are_refused(
        client: TestClient, auth: Callable[[Role], dict[str, str]], field: str, value: str) -> None:
    body = {"username": f"q-{uuid.uuid4().hex[:10]}", "role": "inspector", "password": "inspector-pw", field: value}

    response = client.post(USERS, json=body, headers=auth(Role.admin))

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


def test_a_bad_row_written_before_the_fix_does_not_break_the_user_list(
        client: TestClient, auth: Callable[[Role], dict[str, str]], new_user: NewUser, owner_engine: Engine) -> None:
    user_id, _, _ = new_user(Role.inspector)
    with owner_engine.begin() as conn:  # what POST /users stored for 0.001 before validation matched the column
        conn.execute(text("INSERT INTO user_qualifications (user_id, certificate_type, certificate_number, "
                          "max_voltage_kv, valid_until) VALUES (:id, 'live-line', '', 0.00, '2030-01-01')"),
                     {"id": user_id})
    try:
        response = client.get(USERS, headers=auth(Role.admin))

        assert response.status_code == 200, response.text
        listed = next(u for u in response.json() if u["id"] == user_id)
        assert listed["qualifications"][0]["max_voltage_kv"] == 0.0
    finally:
        with owner_engine.begin() as conn:
            conn.execute(text("DELETE FROM user_qualifications WHERE user_id = :id"), {"id": user_id})
