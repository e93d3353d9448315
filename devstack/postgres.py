"""The checkout's own PostgreSQL 15 cluster in `.gw/pgdata`, on 127.0.0.1 only.

The superuser reaches it only through a private unix socket (mode 0700, trusted); everyone else by
password (scram-sha-256), the roles and databases being `provisioning`'s.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

import psycopg

from devstack import provisioning
from devstack.console import GwError, fail, ok, say
from devstack.layout import Layout, chown_to_postgres
from devstack.ports import DEFAULT_PG_PORT, LOOPBACK, Ports, start_on_free_port
from devstack.processes import as_postgres, bind_failed, log_size, run_logged

PGBIN = Path("/usr/lib/postgresql/15/bin")
CONF_NAME = "gridwarden.conf"
START_TIMEOUT_S = 60
# postmaster.pid: line 4 is the port, line 5 the socket directory (PostgreSQL's LOCK_FILE_LINE_*).
PID_FILE_PORT_LINE, PID_FILE_SOCKET_LINE = 4, 5
# Tuning for a developer machine running the suite with a Celery worker and the API beside it.
TUNING = {"shared_buffers": "256MB", "max_connections": "200", "work_mem": "16MB",
          "maintenance_work_mem": "128MB", "logging_collector": "off", "log_min_messages": "warning"}
HBA = """# Written by ./gw. Superuser over the private socket; everything else by password.
# TYPE  DATABASE  USER      ADDRESS        METHOD
local   all       postgres                 trust
local   all       all                      scram-sha-256
host    all       all       127.0.0.1/32   scram-sha-256
host    all       all       ::1/128        scram-sha-256
"""


def conf_text(*, port: int, sockdir: Path) -> str:
    """`gridwarden.conf`, included by postgresql.conf; written before every start (port and socket may
    change)."""
    tuning = "".join(f"{name} = {value}\n" for name, value in TUNING.items())
    quoted = str(sockdir).replace("'", "''")
    return ("# Written by ./gw (devstack/postgres.py) on every start; edit that instead.\n"
            f"listen_addresses = '{LOOPBACK}'\nport = {port}\nunix_socket_directories = '{quoted}'\n"
            "# The socket trusts the postgres superuser (pg_hba.conf): only this server's own OS user may connect.\n"
            "unix_socket_permissions = 0700\n" + tuning)


def _pid_file_line(layout: Layout, line: int) -> str | None:
    try:
        return (layout.pgdata / "postmaster.pid").read_text(encoding="utf-8").splitlines()[line - 1].strip()
    except (OSError, IndexError):
        return None


def running(layout: Layout) -> bool:
    if not (layout.pgdata / "PG_VERSION").is_file():
        return False
    status = subprocess.run(as_postgres([str(PGBIN / "pg_ctl"), "status", "-D", str(layout.pgdata)]),
                            stdin=subprocess.DEVNULL, capture_output=True, check=False)
    return status.returncode == 0


def live_port(layout: Layout) -> int | None:
    port = _pid_file_line(layout, PID_FILE_PORT_LINE)
    return int(port) if port and port.isdigit() else None


def live_pid(layout: Layout) -> str | None:
    return _pid_file_line(layout, 1)


def _initdb(layout: Layout) -> None:
    say("postgres", "initdb .gw/pgdata")
    layout.pgdata.mkdir(mode=0o700)
    chown_to_postgres(layout.pgdata)
    run_logged(as_postgres([str(PGBIN / "initdb"), "-D", str(layout.pgdata), "-U", "postgres", "-E", "UTF8",
                            "--locale=C.UTF-8", "--auth-local=trust", "--auth-host=scram-sha-256"]),
               log=layout.log / "initdb.log", what="initdb")
    (layout.pgdata / "pg_hba.conf").write_text(HBA, encoding="utf-8")
    with (layout.pgdata / "postgresql.conf").open("a", encoding="utf-8") as conf:
        conf.write(f"\n# GridWarden settings (port, socket, tuning)\ninclude '{CONF_NAME}'\n")


def _write_conf(layout: Layout, *, port: int, sockdir: Path) -> bool:
    """True when the settings changed."""
    path = layout.pgdata / CONF_NAME
    text = conf_text(port=port, sockdir=sockdir)
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    chown_to_postgres(path)
    return True


def _pg_ctl(layout: Layout, action: str) -> bool:
    """`pg_ctl start` or `restart`, waiting for the server to accept connections; True when it does."""
    log = layout.log / "postgres.log"
    log.touch()
    chown_to_postgres(log)
    command = [str(PGBIN / "pg_ctl"), action, "-D", str(layout.pgdata), "-l", str(log), "-w",
               "-t", str(START_TIMEOUT_S)]
    if action == "restart":
        command += ["-m", "fast"]
    done = subprocess.run(as_postgres(command), stdin=subprocess.DEVNULL, capture_output=True, check=False)
    return done.returncode == 0


def _start(layout: Layout, port: int) -> bool:
    """Start on `port`; False when the port was taken by then."""
    _write_conf(layout, port=port, sockdir=layout.sockdir)
    log = layout.log / "postgres.log"
    since = log_size(log)
    if _pg_ctl(layout, "start"):
        return True
    if bind_failed(log, since):
        return False
    raise fail("postgres failed to start", log=log)


def ensure(layout: Layout, ports: Ports, passwords: Mapping[str, str]) -> None:
    """Initialise, start (or restart on changed settings) and provision the cluster; records the port."""
    if not (PGBIN / "initdb").is_file():
        raise GwError(f"PostgreSQL 15 binaries not found in {PGBIN}")
    if not (layout.pgdata / "PG_VERSION").is_file():
        shutil.rmtree(layout.pgdata, ignore_errors=True)  # a half-made cluster from a failed initdb
        _initdb(layout)
    port = live_port(layout) if running(layout) else None
    if port is not None:
        # The socket may live elsewhere if it was started with an older layout.
        sockdir = Path(_pid_file_line(layout, PID_FILE_SOCKET_LINE) or layout.sockdir)
        # A server started with older settings is restarted on the new ones (then `pg_ctl restart` on
        # its own, as a fault test does, keeps them too).
        if _write_conf(layout, port=port, sockdir=sockdir):
            say("postgres", "restarting: its settings changed")
            if not _pg_ctl(layout, "restart"):
                raise fail("postgres failed to restart", log=layout.log / "postgres.log")
    else:
        port = start_on_free_port(lambda candidate: _start(layout, candidate), current=ports.pg,
                                  default=DEFAULT_PG_PORT, label="postgres")
        sockdir = layout.sockdir
    ports.pg = port
    ports.save(layout.ports_file)

    def connect(dbname: str) -> psycopg.Connection:
        return psycopg.connect(host=str(sockdir), port=port, user="postgres", dbname=dbname, autocommit=True)

    try:
        provisioning.provision(connect, passwords)
    except psycopg.Error as exc:
        raise GwError(f"could not create the roles and databases: {exc}") from exc
    ok("postgres", f"running on {LOOPBACK}:{port} (databases {' '.join(provisioning.DATABASES)})")


def stop(layout: Layout) -> None:
    if not running(layout):
        say("postgres", "not running")
        return
    done = subprocess.run(as_postgres([str(PGBIN / "pg_ctl"), "stop", "-D", str(layout.pgdata), "-m", "fast", "-w"]),
                          stdin=subprocess.DEVNULL, capture_output=True, check=False)
    if done.returncode != 0:
        raise GwError("pg_ctl stop failed")
    ok("postgres", "stopped")
