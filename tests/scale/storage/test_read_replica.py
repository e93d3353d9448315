"""Map reads come from a streaming read replica, and nobody misses their own write.

The replica is the checkout's own (`devstack/replica.py`: `pg_basebackup -R` of the suite's
PostgreSQL, on a port of its own). Its replay is paused by the superuser to hold it behind the
primary on purpose: a write is then on the primary only, so whoever sees it read from the primary,
and whoever does not read from the replica. A write is the user's own API request, or an import job
the user queued, which the worker writes for them.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from core.context import Actor
from core.database import unit_of_work
from core.permissions import Role
from core.settings import Settings
from core.storage import ObjectStorage
from core.users.models import User
from devstack import replica as replica_service
from devstack.layout import Layout
from devstack.replica import Replica
from gis.imports import service as job_service
from tests.faults.conftest import wait_for
from tests.jobs import import_job

REPO_ROOT = Path(__file__).resolve().parents[3]
SUBSTATIONS = "/api/v1/network/substations"
AROUND = {"bbox": "11,53,12,54"}  # a 1° box around the substation below
SUBSTATION = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [11.5, 53.6]},
              "properties": {"external_id": "SS-RYW", "name": "Nordtor", "nominal_kv": 20}}
CATCH_UP_S = 30  # a replica on the same machine replays a few kB in milliseconds; this is the give-up


@pytest.fixture(scope="module")
def replica() -> Iterator[Replica]:
    layout = Layout(REPO_ROOT)
    running = replica_service.ensure_replica(layout)
    yield running
    replica_service.stop_replica(layout, remove=True)


@pytest.fixture(scope="module")
def replica_app(settings: Settings, owner_engine: object, replica: Replica) -> Iterator[FastAPI]:
    """The API as the scale set-up runs it: GW_DATABASE_READ_URL pointing at the replica."""
    from api.app import create_app

    read_url = replica_service.read_url(settings.database.url.get_secret_value(), replica)
    database = settings.database.model_copy(update={"read_url": SecretStr(read_url)})
    yield create_app(settings.model_copy(update={"database": database}))  # its lifespan disposes its engines


@pytest.fixture
def replica_client(replica_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(replica_app, raise_server_exceptions=False) as client:
        yield client


@contextmanager
def replay_paused(replica: Replica, owner_engine: Engine) -> Iterator[Callable[[], None]]:
    """Pause the replica's replay (resumed by calling what this yields, and always at the end).
    It first lets the replica replay everything up to now: paused in the middle of the suite's reset
    (TRUNCATE), replay would hold its table locks and every read on the replica would wait for them."""
    with owner_engine.connect() as primary:
        now = primary.execute(text("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint")).scalar_one()
    with replica.superuser_connection() as conn:
        wait_for("the replica to replay everything so far", lambda: conn.execute(
            "SELECT (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint >= %s OR NULL", (now,)).fetchone()[0],
            timeout_s=CATCH_UP_S)
        conn.execute("SELECT pg_wal_replay_pause()")
        wait_for("the replica's replay to pause", lambda: conn.execute(
            "SELECT pg_get_wal_replay_pause_state() = 'paused' OR NULL").fetchone()[0], timeout_s=CATCH_UP_S)

        def resume() -> None:
            conn.execute("SELECT pg_wal_replay_resume()")

        try:
            yield resume
        finally:
            resume()


@pytest.fixture
def paused(replica: Replica, owner_engine: Engine) -> Iterator[Callable[[], None]]:
    """The replica held behind the primary for the whole test (see `replay_paused`)."""
    with replay_paused(replica, owner_engine) as resume:
        yield resume


def names_listed(client: TestClient, headers: dict[str, str]) -> set[str]:
    listed = client.get(SUBSTATIONS, params=AROUND, headers=headers)
    assert listed.status_code == 200, listed.text
    return {feature["properties"]["name"] for feature in listed.json()["features"]}


def test_a_writer_sees_their_write_at_once_while_others_read_the_lagging_replica_until_it_catches_up(
        replica_client: TestClient, auth: Callable[[Role], dict[str, str]], paused: Callable[[], None]) -> None:
    writer, other = auth(Role.dispatcher), auth(Role.supervisor)

    created = replica_client.post(SUBSTATIONS, json=SUBSTATION, headers=writer)
    assert created.status_code == 201, created.text

    # The replica has not replayed the write: the writer's list is served by the primary...
    assert names_listed(replica_client, writer) == {"Nordtor"}
    # ...and anyone else's by the replica, which does not have it yet (on the primary it is there).
    assert names_listed(replica_client, other) == set()

    paused()  # resume replay
    wait_for("the other user to see the write once the replica replayed it",
             lambda: True if names_listed(replica_client, other) == {"Nordtor"} else None, timeout_s=CATCH_UP_S)
    assert names_listed(replica_client, writer) == {"Nordtor"}


def test_a_replica_that_is_down_costs_no_read(replica_client: TestClient, auth: Callable[[Role], dict[str, str]],
                                             replica: Replica) -> None:
    writer, other = auth(Role.dispatcher), auth(Role.supervisor)
    created = replica_client.post(SUBSTATIONS, json=SUBSTATION, headers=writer)
    assert created.status_code == 201, created.text
    layout = Layout(REPO_ROOT)
    replica_service.stop_replica(layout)
    try:
        # Everyone's reads fall back to the primary, which has the write.
        assert names_listed(replica_client, other) == {"Nordtor"}
        assert names_listed(replica_client, writer) == {"Nordtor"}
    finally:
        restarted = replica_service.ensure_replica(layout)  # for the module's other tests, whatever happened
    assert restarted.port == replica.port  # back where the module's app reads


def test_an_import_a_user_queued_is_on_their_map_as_soon_as_it_succeeds_while_the_replica_lags(
        replica_app: FastAPI, replica_client: TestClient, auth: Callable[[Role], dict[str, str]],
        role_users: dict[Role, int], session_factory: sessionmaker[Session], storage: ObjectStorage,
        celery_worker: subprocess.Popen[bytes], replica: Replica, owner_engine: Engine) -> None:
    importer, other = auth(Role.dispatcher), auth(Role.supervisor)
    with unit_of_work(session_factory) as db:
        user = db.get(User, role_users[Role.dispatcher])
        assert user is not None
        actor = Actor(user_id=user.id, username=user.username, role=Role.dispatcher)
        # Queued without an API write of the user's: only the job can tell their reads where the import is.
        job_id = job_service.create_geo_job(db=db, actor=actor, storage=storage, layer="substations",
                                            filename="substations.geojson", crs=None, data=json.dumps(
                                                {"type": "FeatureCollection", "features": [SUBSTATION]}).encode()).id
    with replay_paused(replica, owner_engine):
        assert job_service.enqueue(celery=replica_app.state.celery, job_id=job_id)
        wait_for("the worker to finish the import", lambda: True if import_job(owner_engine, job_id)["status"] == "succeeded"
                 else None, timeout_s=CATCH_UP_S)

        # The replica has not replayed the import: the importer's list is served by the primary...
        assert names_listed(replica_client, importer) == {"Nordtor"}
        # ...and anyone else's by the replica, which does not have it yet.
        assert names_listed(replica_client, other) == set()

