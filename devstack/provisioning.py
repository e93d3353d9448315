"""The PostgreSQL roles, databases and extensions of GridWarden: the one definition.

Two roles: the owner runs the migrations and owns every database; the application role gets DML
only, granted by the migrations. Three databases: the demo data, the test suite's and the benchmarks'.
`provision` applies this to the local server on every `./gw` run (idempotently, and moving the role
passwords to this installation's); `render_initdb` writes the script the postgres image runs once on
an empty docker volume (`docker/initdb/01-gridwarden.sh`, committed; a test checks it is current).
Regenerate that file with `.venv/bin/python -m devstack.provisioning`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql


@dataclass(frozen=True)
class Role:
    name: str
    secret: str  # its password's name in .gw/secrets.env
    compose_variable: str  # its password's variable in docker compose's .env
    psql_variable: str  # the psql variable the initdb script passes the password in


OWNER = Role("gridwarden_owner", "PG_OWNER_PASSWORD", "GW_DB_OWNER_PASSWORD", "owner_password")
APP = Role("gridwarden_app", "PG_APP_PASSWORD", "GW_DB_APP_PASSWORD", "app_password")
ROLES = (OWNER, APP)
DEMO_DATABASE = "gridwarden"
TEST_DATABASE = "gridwarden_test"
BENCH_DATABASE = "gridwarden_bench"
DATABASES = (DEMO_DATABASE, TEST_DATABASE, BENCH_DATABASE)
EXTENSIONS = ("postgis", "pgrouting")
APP_DATABASE_PRIVILEGES = "CONNECT, TEMP"
INITDB_SCRIPT = Path(__file__).resolve().parent.parent / "docker" / "initdb" / "01-gridwarden.sh"


def create_role(role: Role, password: sql.Composable) -> sql.Composed:
    return sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role.name), password)


# Settings of the application role, applied at every login unless the session sets its own. jit = off:
# the planner's row estimates for the spatial joins grow with the tables and push the screening
# queries past jit_above_cost, and compiling them then costs more than running them (issue 14: the
# zone query's compile 19 -> 389 ms, the facilities query's 70 -> 1,015 ms at 10x; `./gw bench jit`
# measures it on and off, interleaved, on the full SimBench set). Any other client of the role (a
# report tool, psql as the app role, a pool that does not run GridWarden's session set-up) gets it too.
APP_ROLE_SETTINGS = (("jit", "off"),)


def role_settings() -> list[sql.Composed]:
    return [sql.SQL("ALTER ROLE {} SET {} = {}").format(sql.Identifier(APP.name), sql.Identifier(name),
                                                       sql.Literal(value))
            for name, value in APP_ROLE_SETTINGS]


def create_database(database: str) -> sql.Composed:
    return sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(database), sql.Identifier(OWNER.name))


def prepare_database(database: str) -> list[sql.Composed]:
    """Run inside `database`: its extensions, and the application role may connect."""
    statements = [sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(e)) for e in EXTENSIONS]
    statements.append(sql.SQL("GRANT {} ON DATABASE {} TO {}").format(
        sql.SQL(APP_DATABASE_PRIVILEGES), sql.Identifier(database), sql.Identifier(APP.name)))
    return statements


def provision(connect: Callable[[str], psycopg.Connection], passwords: Mapping[str, str]) -> None:
    """Bring a server to this definition as its superuser; `connect(dbname)` opens an autocommit
    connection. Idempotent: what exists is kept, and the role passwords are set to `passwords` (keyed by
    `Role.secret`) every time, which moves an installation made with the passwords earlier versions
    published, or one whose secrets.env was edited, to the current ones."""
    with connect("postgres") as conn:
        conn.execute("SET client_min_messages = warning")
        for role in ROLES:
            password = sql.Literal(passwords[role.secret])
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role.name,)).fetchone():
                conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(role.name), password))
            else:
                conn.execute(create_role(role, password))
        for statement in role_settings():
            conn.execute(statement)
        existing = {row[0] for row in conn.execute("SELECT datname FROM pg_database")}
        for database in DATABASES:
            if database not in existing:
                conn.execute(create_database(database))
    for database in DATABASES:
        with connect(database) as conn:
            conn.execute("SET client_min_messages = warning")
            for statement in prepare_database(database):
                conn.execute(statement)


def render_initdb() -> str:
    """The docker image's init script, from the same statements `provision` runs."""
    def text(statement: sql.Composed) -> str:
        return statement.as_string(None) + ";"

    variables = " ".join(f'-v {r.psql_variable}="${r.compose_variable}"' for r in ROLES)
    checks = "".join(f': "${{{r.compose_variable}:?{r.compose_variable} is not set}}"\n' for r in ROLES)
    server = [text(create_role(r, sql.SQL(f":'{r.psql_variable}'"))) for r in ROLES]
    server += [text(s) for s in role_settings()]
    server += [text(create_database(d)) for d in DATABASES]
    per_database = "".join(
        f'psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname {d} <<\'EOSQL\'\n'
        + "\n".join(text(s) for s in prepare_database(d)) + "\nEOSQL\n" for d in DATABASES)
    return ("#!/bin/sh\n"
            "# Run once by the postgres image on an empty data volume (docker-compose.yml, service db).\n"
            "# GENERATED from devstack/provisioning.py, the one definition of the roles, databases and\n"
            "# extensions that ./gw provisions locally: do not edit; run `.venv/bin/python -m devstack.provisioning`.\n"
            "# The role passwords come from the environment (" + ", ".join(r.compose_variable for r in ROLES)
            + "); there is\n# no default. They reach psql as variables, never in the SQL text of this file.\n"
            "set -e\n" + checks + "\n"
            f'psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \\\n     {variables} <<\'EOSQL\'\n'
            + "\n".join(server) + "\nEOSQL\n\n" + per_database)


if __name__ == "__main__":
    INITDB_SCRIPT.write_text(render_initdb(), encoding="utf-8")
    print(f"wrote {INITDB_SCRIPT}")
