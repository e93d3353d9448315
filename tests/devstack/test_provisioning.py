"""One definition of the roles and databases: the committed docker init script is its rendering, and
applying it to the real local server is idempotent and moves the role passwords to this installation's."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from devstack import postgres, provisioning, secrets
from devstack.layout import Layout
from tests.ops.services import REPO_ROOT, Endpoint, postgres_login_error
from tests.ops.test_service_access import PUBLISHED_PASSWORDS

LAYOUT = Layout(REPO_ROOT)


def test_the_committed_docker_init_script_is_the_rendering_of_the_definition() -> None:
    committed = (REPO_ROOT / "docker" / "initdb" / "01-gridwarden.sh").read_text(encoding="utf-8")

    assert committed == provisioning.render_initdb(), \
        "docker/initdb drifted from devstack/provisioning.py: run .venv/bin/python -m devstack.provisioning"
    for database in provisioning.DATABASES:
        assert f"CREATE DATABASE \"{database}\" OWNER \"gridwarden_owner\";" in committed
        assert f"--dbname {database} <<'EOSQL'" in committed


@pytest.fixture(scope="module")
def superuser() -> Callable[[str], psycopg.Connection]:
    """Connections to this checkout's cluster as `./gw` makes them (the private socket)."""
    port = postgres.live_port(LAYOUT)
    if port is None or not postgres.running(LAYOUT):
        pytest.fail(f"this test provisions the local cluster ./gw runs ({LAYOUT.pgdata}); it is not running")
    sockdir = Path((LAYOUT.pgdata / "postmaster.pid").read_text().splitlines()[4])

    def connect(dbname: str) -> psycopg.Connection:
        return psycopg.connect(host=str(sockdir), port=port, user="postgres", dbname=dbname, autocommit=True)

    return connect


def test_provisioning_twice_keeps_the_server_as_defined(superuser: Callable[[str], psycopg.Connection]) -> None:
    passwords = secrets.read(LAYOUT.secrets_file)

    provisioning.provision(superuser, passwords)
    provisioning.provision(superuser, passwords)

    with superuser("postgres") as conn:
        owners = dict(conn.execute("SELECT datname, pg_get_userbyid(datdba) FROM pg_database WHERE datname = ANY(%s)",
                                   (list(provisioning.DATABASES),)).fetchall())
        connect = {db: conn.execute("SELECT has_database_privilege('gridwarden_app', %s, 'CONNECT, TEMP')",
                                    (db,)).fetchone() for db in provisioning.DATABASES}
    assert owners == dict.fromkeys(provisioning.DATABASES, "gridwarden_owner")
    assert connect == dict.fromkeys(provisioning.DATABASES, (True,))
    for database in provisioning.DATABASES:
        with superuser(database) as conn:
            installed = {row[0] for row in conn.execute("SELECT extname FROM pg_extension")}
        assert set(provisioning.EXTENSIONS) <= installed, database


def test_a_role_left_with_a_published_password_is_moved_to_the_installations(
        superuser: Callable[[str], psycopg.Connection]) -> None:
    """An installation made by an early ./gw had the passwords this repository once published."""
    passwords = secrets.read(LAYOUT.secrets_file)
    endpoint = Endpoint("127.0.0.1", postgres.live_port(LAYOUT) or 0)
    with superuser("postgres") as conn:
        conn.execute(sql.SQL("ALTER ROLE gridwarden_app PASSWORD {}").format(
            sql.Literal(PUBLISHED_PASSWORDS["gridwarden_app"])))
    try:
        assert postgres_login_error(endpoint, user="gridwarden_app", password=PUBLISHED_PASSWORDS["gridwarden_app"],
                                    dbname="gridwarden_test") is None
    finally:
        provisioning.provision(superuser, passwords)

    published = postgres_login_error(endpoint, user="gridwarden_app", password=PUBLISHED_PASSWORDS["gridwarden_app"],
                                     dbname="gridwarden_test")
    assert published is not None and "password authentication failed" in published
    assert postgres_login_error(endpoint, user="gridwarden_app", password=passwords["PG_APP_PASSWORD"],
                                dbname="gridwarden_test") is None
