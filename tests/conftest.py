"""Fixtures for the real services `./gw test` starts: PostgreSQL+PostGIS, Redis, S3 and a Celery worker.

The suite runs against its own database (GW_DATABASE_URL points at `gridwarden_test`), its own Redis
database number and its own bucket prefix, so it never touches demo data. The schema is rebuilt
from the migrations at the start of the session; every test starts with empty data tables.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import psycopg
import pytest
import redis
from celery import Celery
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from alembic import command
from cases.calendar import default_calendar_path
from core.celery_app import create_celery
from core.cli import alembic_config
from core.context import Actor
from core.database import create_db_engine, create_session_factory
from core.fingerprint import json_fingerprint
from core.permissions import Role
from core.settings import Settings
from core.storage import ObjectStorage
from core.users import access
from core.users import service as user_service
from core.users.schemas import UserCreate
from gridwarden.domains import installed

REPO_ROOT = Path(__file__).resolve().parent.parent
ROLES = tuple(Role)
# Tables kept between tests: the schema version, the topology revision row, the role users and the
# reference data the migrations load (rule sets; those a test loads itself are removed).
# Reference data the migrations load (one list, the installed domains'), and the `test-<role>` users.
KEEP_TABLES = installed().reference_tables() | {"users", "user_qualifications"}
SHIPPED_CALENDAR = default_calendar_path("CN")


@pytest.fixture(scope="session")
def settings() -> Settings:
    if "gridwarden_test" not in os.environ.get("GW_DATABASE_URL", "") and not os.environ.get("GW_ALLOW_ANY_DB"):
        pytest.exit("Run the tests with ./gw test: GW_DATABASE_URL must point at the test database.", returncode=2)
    return Settings(environment="test")


@pytest.fixture(scope="session")
def owner_engine(settings: Settings) -> Iterator[Engine]:
    """The schema owner's connection; the session starts from a freshly migrated schema."""
    config = alembic_config(settings.database.migration_url)
    config.attributes["configure_logger"] = False
    command.downgrade(config, "base")
    command.upgrade(config, "head")
    engine = create_engine(settings.database.migration_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def app_engine(settings: Settings, owner_engine: Engine) -> Iterator[Engine]:
    engine = create_db_engine(settings.database)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def session_factory(app_engine: Engine) -> sessionmaker[Session]:
    return create_session_factory(app_engine, installed().event_handlers())


# The reset runs beside a real Celery worker, which may be writing (the import relay it sends when
# it starts updates import jobs; an import finishing writes the network tables): PostgreSQL may
# then pick the TRUNCATE as the victim of a deadlock. It is run again; by then the other transaction has ended.
RESET_ATTEMPTS = 3


def truncate_data(engine: Engine) -> None:
    """Empty every data table (as owner) and move the topology revision on so cached graphs reload."""
    for attempt in range(1, RESET_ATTEMPTS + 1):
        try:
            _reset(engine)
            return
        except OperationalError as exc:
            if not isinstance(exc.orig, psycopg.errors.DeadlockDetected) or attempt == RESET_ATTEMPTS:
                raise

# The shipped default rule set, as the migrations leave it.
DEFAULT_RULE_SET = ("CN-EPP", "2011.2")


def _reset(engine: Engine) -> None:
    with engine.begin() as conn:
        tables = [r[0] for r in conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))]
        data_tables = [t for t in tables if t not in KEEP_TABLES]
        if data_tables:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in data_tables) + " RESTART IDENTITY CASCADE"))
        conn.execute(text("UPDATE topology_state SET revision = revision + 1"))
        conn.execute(text("DELETE FROM rule_sets WHERE loaded_by NOT LIKE 'migration %'"))
        shipped_default = {"code": DEFAULT_RULE_SET[0], "version": DEFAULT_RULE_SET[1]}
        conn.execute(text("UPDATE rule_sets SET is_default = false WHERE (code, version) <> (:code, :version)"),
                     shipped_default)
        conn.execute(text("UPDATE rule_sets SET is_default = true WHERE (code, version) = (:code, :version)"),
                     shipped_default)
        # A test that edited the calendar leaves the shipped one behind it, as the migration seeded it.
        shipped = json.loads(SHIPPED_CALENDAR.read_text(encoding="utf-8"))
        conn.execute(text("UPDATE working_calendars SET document = CAST(:document AS jsonb), sha256 = :sha256, "
                          "version = 1 WHERE code = 'CN' AND version <> 1"),
                     {"document": json.dumps(shipped, ensure_ascii=False), "sha256": json_fingerprint(shipped)})


@pytest.fixture(autouse=True)
def clean_tables(request: pytest.FixtureRequest) -> None:
    """Every test starts with empty data tables, except in modules that share one loaded data set
    (`SHARED_DATA = True`) through a module-scoped fixture of their own."""
    if getattr(request.module, "SHARED_DATA", False):
        return
    if not {"owner_engine", "client", "app_engine", "session_factory"} & set(request.fixturenames):
        return
    truncate_data(request.getfixturevalue("owner_engine"))


@pytest.fixture(scope="session")
def redis_client(settings: Settings) -> Iterator[redis.Redis]:
    """The test Redis database (the one the app under test uses)."""
    client = redis.Redis.from_url(settings.redis.url.get_secret_value())
    yield client
    client.close()


def forget_sessions_and_throttles(client: redis.Redis) -> None:
    """Drop sign-in counters and locks and cached session states. Every TestClient request comes from
    one address ('testclient'), so one test's failed sign-ins would otherwise throttle the next test's."""
    keys = [*client.scan_iter("gw:signin:*", count=1000), *client.scan_iter("gw:session:*", count=1000)]
    if keys:
        client.delete(*keys)


@pytest.fixture(autouse=True)
def clean_throttles(request: pytest.FixtureRequest) -> None:
    """Every test that reaches the services starts with no sign-in throttle and no cached session."""
    if {"client", "app", "owner_engine"} & set(request.fixturenames):
        forget_sessions_and_throttles(request.getfixturevalue("redis_client"))


@pytest.fixture(scope="session")
def storage(settings: Settings) -> ObjectStorage:
    store = ObjectStorage(settings.s3)
    store.ensure_buckets()
    return store


@pytest.fixture(scope="session")
def celery_worker(settings: Settings, owner_engine: Engine) -> Iterator[subprocess.Popen[bytes]]:
    """A real Celery worker process on the test database and Redis db, for the whole session."""
    celery = create_celery(settings)
    celery.control.purge()
    log_path = REPO_ROOT / ".gw" / "test-worker.log" if (REPO_ROOT / ".gw").is_dir() else Path(os.devnull)
    with log_path.open("wb") as log:
        yield from _run_worker(celery, log)


def _run_worker(celery: Celery, log: IO[bytes]) -> Iterator[subprocess.Popen[bytes]]:
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "gridwarden.worker:celery_app", "worker", "--pool=threads",
         "--concurrency=2", "--loglevel=INFO", "--hostname=gw-test@%h"],
        cwd=REPO_ROOT, env={**os.environ}, stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            pytest.fail("the Celery worker exited during start-up; see .gw/test-worker.log")
        if celery.control.ping(timeout=0.5):
            break
    else:
        worker.terminate()
        pytest.fail("the Celery worker did not answer within 60 s")
    yield worker
    worker.terminate()
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()


@pytest.fixture(scope="session")
def app(settings: Settings, owner_engine: Engine, storage: ObjectStorage) -> FastAPI:
    from api.app import create_app

    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def role_users(session_factory: sessionmaker[Session], owner_engine: Engine) -> dict[Role, int]:
    """One user per role (password '<role>-password'); created once, kept across tests, restored to
    its role and enabled if a test changed it."""
    return ensure_role_users(session_factory)


def ensure_role_users(session_factory: sessionmaker[Session]) -> dict[Role, int]:
    """The `role_users` fixture's work, for tests that must restore them in the middle (a stateful run)."""
    ids: dict[Role, int] = {}
    with session_factory() as db, db.begin():
        for role in ROLES:
            user = user_service.get_by_username(db=db, username=f"test-{role.value}")
            if user is None:
                user = user_service.create(db=db, actor=Actor.system("tests"), user_in=UserCreate(
                    username=f"test-{role.value}", role=role, password=f"{role.value}-password"))
            elif user.role != role or not user.is_active:
                # A test (or a generated API call) disabled or re-roled it; the next test needs it as it was.
                user.role, user.is_active = role, True
            ids[role] = user.id
    return ids


def bearer(settings: Settings, session_factory: sessionmaker[Session], user_id: int) -> dict[str, str]:
    """Authorization header of a token for the user as they are now (role and token version from the
    database, so a token issued here passes the per-request session check)."""
    with session_factory() as db:
        issued = access.issue_for(settings=settings.auth, user=user_service.get(db=db, user_id=user_id))
    return {"Authorization": f"Bearer {issued.access_token}"}


@dataclass(frozen=True)
class Person:
    """A signed-in user: their id, name as it appears in history and on documents, and headers."""

    id: int
    username: str
    role: Role
    headers: dict[str, str]


def sign_in_people(settings: Settings, session_factory: sessionmaker[Session],
                   extra: Mapping[str, tuple[Role, str]]) -> dict[str, Person]:
    """Everyone by short name: the `test-<role>` users under the role's name ("dispatcher",
    "inspector"...) and the users of `extra` (short name -> role, full name), created as `test-<name>`
    the first time."""
    wanted = {role.value: (role, f"test-{role.value}") for role in Role}
    wanted.update({name: (role, f"test-{name}") for name, (role, _) in extra.items()})
    with session_factory() as db, db.begin():
        for name, (role, full_name) in extra.items():
            if user_service.get_by_username(db=db, username=f"test-{name}") is None:
                user_service.create(db=db, actor=Actor.system("tests"), user_in=UserCreate(
                    username=f"test-{name}", full_name=full_name, role=role, password=f"{name}-password"))
        ids = {name: user_service.get_by_username(db=db, username=username).id  # type: ignore[union-attr]
               for name, (_, username) in wanted.items()}
    return {name: Person(ids[name], username, role, bearer(settings, session_factory, ids[name]))
            for name, (role, username) in wanted.items()}


@pytest.fixture
def auth(settings: Settings, session_factory: sessionmaker[Session], role_users: dict[Role, int]
         ) -> Callable[[Role], dict[str, str]]:
    """`auth(Role.dispatcher)` -> Authorization header of a signed-in user with that role."""

    def headers(role: Role) -> dict[str, str]:
        return bearer(settings, session_factory, role_users[role])

    return headers


@pytest.fixture
def system_actor() -> Actor:
    return Actor.system("tests")
