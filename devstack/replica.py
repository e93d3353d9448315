"""A streaming read replica of the checkout's PostgreSQL, for the scale set-up (issue 14).

`ensure_replica` clones the running primary (`devstack/postgres.py`) with `pg_basebackup -R` into
`.gw/pgreplica` and starts it as a hot standby on a free port of its own, on 127.0.0.1 only. It
streams over a physical replication slot, so a replica stopped for a while catches up instead of
finding the WAL it needs recycled; `stop_replica(remove=True)` drops the slot with the data directory
(a forgotten slot would keep WAL on the primary for ever).

Credentials: a replication role (`REPLICATION_ROLE`, LOGIN REPLICATION and nothing else) with a
generated password kept in `.gw/secrets.env` (`PG_REPLICATION_PASSWORD`), allowed by one pg_hba line on
the primary for 127.0.0.1 only (scram-sha-256). The standby copies the primary's pg_hba.conf and
roles, so the application reads it with its own role and password, and only the postgres superuser
reaches its private socket.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from devstack import postgres, secrets
from devstack.console import GwError, fail, ok, say
from devstack.layout import Layout, chown_to_postgres
from devstack.ports import DEFAULT_PG_PORT, LOOPBACK, start_on_free_port
from devstack.processes import as_postgres, bind_failed, log_size, run_logged, wait_until

REPLICATION_ROLE = "gridwarden_replicator"
REPLICATION_SECRET = "PG_REPLICATION_PASSWORD"
SLOT = "gridwarden_replica"
DEFAULT_REPLICA_PORT = DEFAULT_PG_PORT + 1
HBA_LINE = f"host    replication {REPLICATION_ROLE} 127.0.0.1/32   scram-sha-256\n"
STREAMING_TIMEOUT_S = 60
# A replica stopped for a while (./gw stop, then a bench or the suite wrote gigabytes) replays what its
# slot kept before it is handed out: a set-up that answers from a replica minutes behind would show
# tables that do not exist yet.
CATCH_UP_TIMEOUT_S = 600
REPLICA_MARKER = "# The read replica (devstack/replica.py).\n"
# The standby's own settings, on top of the primary's tuning (postgres.TUNING, copied with the data):
# hot_standby answers reads while it replays; hot_standby_feedback stops the primary's vacuum from
# removing rows a long tile or trace query on the standby still reads (which would cancel that query).
STANDBY_SETTINGS = {"hot_standby": "on", "hot_standby_feedback": "on"}


@dataclass(frozen=True)
class Replica:
    """A running replica: where it listens and where its private socket is."""

    port: int
    sockdir: Path

    def superuser_connection(self, dbname: str = "postgres") -> psycopg.Connection:
        """The postgres superuser over the private socket (to pause replay in a test, to inspect it)."""
        return psycopg.connect(host=str(self.sockdir), port=self.port, user="postgres", dbname=dbname,
                               autocommit=True)


def data_dir(layout: Layout) -> Path:
    return layout.gw / "pgreplica"


def _log(layout: Layout) -> Path:
    return layout.log / "replica.log"


def read_url(url: str, replica: Replica) -> str:
    """The application role's URL (`GW_DATABASE_URL`), pointed at the replica: same role, password and
    database, the replica's port."""
    return make_url(url).set(host=LOOPBACK, port=replica.port).render_as_string(hide_password=False)


def _primary(layout: Layout) -> tuple[int, Path]:
    if not postgres.running(layout):
        raise GwError("the primary PostgreSQL is not running: run ./gw setup first")
    port = postgres.live_port(layout)
    if port is None:
        raise GwError("the primary PostgreSQL's port is unknown (.gw/pgdata/postmaster.pid)")
    try:
        sockdir = (layout.pgdata / "postmaster.pid").read_text(encoding="utf-8").splitlines()[
            postgres.PID_FILE_SOCKET_LINE - 1].strip()
    except (OSError, IndexError):
        sockdir = ""
    return port, Path(sockdir) if sockdir else layout.sockdir


def _allow_replication(layout: Layout, *, port: int, sockdir: Path, password: str) -> None:
    """The replication role with its current password, its pg_hba line (127.0.0.1 only), and the slot."""
    hba = layout.pgdata / "pg_hba.conf"
    text = hba.read_text(encoding="utf-8")
    if HBA_LINE not in text:
        hba.write_text(text + "# The read replica (devstack/replica.py): replication from 127.0.0.1 only.\n"
                       + HBA_LINE, encoding="utf-8")
    with psycopg.connect(host=str(sockdir), port=port, user="postgres", dbname="postgres", autocommit=True) as conn:
        literal = sql.Literal(password)
        role = sql.Identifier(REPLICATION_ROLE)
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (REPLICATION_ROLE,)).fetchone():
            conn.execute(sql.SQL("ALTER ROLE {} LOGIN REPLICATION PASSWORD {}").format(role, literal))
        else:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN REPLICATION PASSWORD {}").format(role, literal))
        conn.execute("SELECT pg_reload_conf()")


def _slot_exists(*, port: int, sockdir: Path) -> bool:
    with psycopg.connect(host=str(sockdir), port=port, user="postgres", dbname="postgres", autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_replication_slots WHERE slot_name = %s", (SLOT,)).fetchone() is not None


def _primary_position(*, port: int, sockdir: Path) -> int:
    """The primary's WAL position now, in bytes."""
    with psycopg.connect(host=str(sockdir), port=port, user="postgres", dbname="postgres", autocommit=True) as conn:
        row = conn.execute("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint").fetchone()
    return int(row[0]) if row else 0


def _replayed_past(replica: Replica, position: int) -> bool:
    """Whether the replica has replayed the primary's WAL up to `position`."""
    try:
        with replica.superuser_connection() as conn:
            row = conn.execute("SELECT (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint").fetchone()
    except psycopg.Error:
        return False
    return row is not None and row[0] is not None and int(row[0]) >= position


def _drop_slot(*, port: int, sockdir: Path) -> None:
    """Drop the replica's slot unless a standby streams from it."""
    with psycopg.connect(host=str(sockdir), port=port, user="postgres", dbname="postgres", autocommit=True) as conn:
        conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                     "WHERE slot_name = %s AND NOT active", (SLOT,))


def _base_backup(layout: Layout, *, port: int, password: str) -> None:
    target = data_dir(layout)
    shutil.rmtree(target, ignore_errors=True)  # a half-made copy from a failed run
    target.mkdir(mode=0o700)  # empty, the server's own (.gw is not writable by the postgres user)
    chown_to_postgres(target)
    say("replica", "pg_basebackup from the primary into .gw/pgreplica")
    # The password reaches pg_basebackup in its environment, never on a command line (ps shows those);
    # -R writes it into the standby's primary_conninfo (postgresql.auto.conf, 0600, owned by postgres).
    run_logged(as_postgres([str(postgres.PGBIN / "pg_basebackup"), "-h", LOOPBACK, "-p", str(port),
                            "-U", REPLICATION_ROLE, "-D", str(target), "-R", "-X", "stream", "-c", "fast",
                            "-S", SLOT, "-C", "--no-password"]),
               log=_log(layout), what="pg_basebackup", env={**os.environ, "PGPASSWORD": password})


def _standby_conf(port: int, sockdir: Path) -> str:
    extra = "".join(f"{name} = {value}\n" for name, value in STANDBY_SETTINGS.items())
    return postgres.conf_text(port=port, sockdir=sockdir) + REPLICA_MARKER + extra


def _running(layout: Layout) -> bool:
    if not (data_dir(layout) / "PG_VERSION").is_file():
        return False
    status = subprocess.run(as_postgres([str(postgres.PGBIN / "pg_ctl"), "status", "-D", str(data_dir(layout))]),
                            stdin=subprocess.DEVNULL, capture_output=True, check=False)
    return status.returncode == 0


def _live_port(layout: Layout) -> int | None:
    try:
        line = (data_dir(layout) / "postmaster.pid").read_text(encoding="utf-8").splitlines()[
            postgres.PID_FILE_PORT_LINE - 1]
    except (OSError, IndexError):
        return None
    return int(line) if line.strip().isdigit() else None


def _last_port(layout: Layout) -> int | None:
    """The port the replica was last started on (its settings file), to keep it across restarts; None
    for a fresh copy, whose settings file is still the primary's."""
    try:
        conf = (data_dir(layout) / postgres.CONF_NAME).read_text(encoding="utf-8")
    except OSError:
        return None
    if REPLICA_MARKER not in conf:
        return None
    for line in conf.splitlines():
        name, _, value = line.partition("=")
        if name.strip() == "port" and value.strip().isdigit():
            return int(value)
    return None


def _start(layout: Layout, port: int, sockdir: Path) -> bool:
    """Start the standby on `port`; False when the port was taken by then."""
    conf = data_dir(layout) / postgres.CONF_NAME
    conf.write_text(_standby_conf(port, sockdir), encoding="utf-8")
    chown_to_postgres(conf)
    log = _log(layout)
    log.touch()
    chown_to_postgres(log)
    since = log_size(log)
    done = subprocess.run(as_postgres([str(postgres.PGBIN / "pg_ctl"), "start", "-D", str(data_dir(layout)),
                                       "-l", str(log), "-w", "-t", str(postgres.START_TIMEOUT_S)]),
                          stdin=subprocess.DEVNULL, capture_output=True, check=False)
    if done.returncode == 0:
        return True
    if bind_failed(log, since):
        return False
    raise fail("the replica failed to start", log=log)


def _streaming(replica: Replica) -> bool:
    try:
        with replica.superuser_connection() as conn:
            row = conn.execute("SELECT status FROM pg_stat_wal_receiver").fetchone()
    except psycopg.Error:
        return False
    return row is not None and row[0] == "streaming"


def ensure_replica(layout: Layout) -> Replica:
    """The replica up and streaming from the running primary: cloned the first time, started when it is
    stopped, left alone when it runs. Idempotent, like the other services of `./gw setup`."""
    primary_port, primary_sockdir = _primary(layout)
    password = secrets.ensure_one(layout.secrets_file, REPLICATION_SECRET)
    _allow_replication(layout, port=primary_port, sockdir=primary_sockdir, password=password)
    if not (data_dir(layout) / "PG_VERSION").is_file() or not _slot_exists(port=primary_port,
                                                                           sockdir=primary_sockdir):
        # No copy, or a copy whose slot is gone (its WAL may be too): clone afresh, on a fresh slot.
        if _running(layout):
            stop_replica(layout)
        _drop_slot(port=primary_port, sockdir=primary_sockdir)
        _base_backup(layout, port=primary_port, password=password)
    sockdir = layout.sockdir
    port = _live_port(layout) if _running(layout) else None
    if port is None:
        port = start_on_free_port(lambda candidate: _start(layout, candidate, sockdir), current=_last_port(layout),
                                  default=DEFAULT_REPLICA_PORT, label="replica")
    replica = Replica(port=port, sockdir=sockdir)
    if not wait_until(lambda: _streaming(replica), seconds=STREAMING_TIMEOUT_S, interval=0.2):
        raise fail("the replica does not stream from the primary", log=_log(layout))
    target = _primary_position(port=primary_port, sockdir=primary_sockdir)
    if not wait_until(lambda: _replayed_past(replica, target), seconds=CATCH_UP_TIMEOUT_S, interval=0.2):
        raise fail(f"the replica did not catch up with the primary within {CATCH_UP_TIMEOUT_S} s", log=_log(layout))
    ok("replica", f"streaming on {LOOPBACK}:{port} from the primary on {primary_port} (.gw/pgreplica, slot {SLOT})")
    return replica


def stop_replica(layout: Layout, *, remove: bool = False) -> None:
    """Stop the standby; `remove` also deletes its data directory and the primary's slot for it (else the
    slot keeps every WAL segment the replica has not received)."""
    if _running(layout):
        done = subprocess.run(as_postgres([str(postgres.PGBIN / "pg_ctl"), "stop", "-D", str(data_dir(layout)),
                                           "-m", "fast", "-w"]),
                              stdin=subprocess.DEVNULL, capture_output=True, check=False)
        if done.returncode != 0:
            raise GwError("pg_ctl stop of the replica failed")
        ok("replica", "stopped")
    else:
        say("replica", "not running")
    if not remove:
        return
    shutil.rmtree(data_dir(layout), ignore_errors=True)
    if postgres.running(layout):
        port, sockdir = _primary(layout)
        _drop_slot(port=port, sockdir=sockdir)
    ok("replica", "removed (.gw/pgreplica and its replication slot)")
