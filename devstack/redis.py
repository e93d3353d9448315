"""The checkout's own Redis: 127.0.0.1 only, this installation's password required.

The password is in the 0600 `.gw/redis.conf`, never on a command line where `ps` would show it, and the
checks below speak RESP over a plain socket for the same reason.
"""

from __future__ import annotations

import shutil
import socket
import subprocess

from devstack.console import GwError, fail, ok, say
from devstack.layout import Layout, write_private
from devstack.ports import DEFAULT_REDIS_PORT, LOOPBACK, Ports, start_on_free_port
from devstack.processes import bind_failed, log_size, pid_alive, stop, wait_until

REPLY_TIMEOUT_S = 2
START_TIMEOUT_S = 10
STOP_TIMEOUT_S = 15


def conf_text(layout: Layout, *, port: int, password: str) -> str:
    return ("# Written by ./gw (devstack/redis.py) before every start. Mode 0600: it holds the password.\n"
            f"bind {LOOPBACK}\nport {port}\nprotected-mode yes\nrequirepass {password}\ndaemonize yes\n"
            f"pidfile {layout.run / 'redis.pid'}\nlogfile {layout.log / 'redis.log'}\ndir {layout.gw / 'redis'}\n"
            "appendonly yes\n")


def pid(layout: Layout) -> int | None:
    return pid_alive(layout.run / "redis.pid", "redis-server")


def ping(port: int, password: str | None = None) -> str:
    """The first word of Redis's reply to PING (PONG, NOAUTH, ...), after AUTH when a password is
    given; "" when nothing answers."""
    try:
        with socket.create_connection((LOOPBACK, port), timeout=REPLY_TIMEOUT_S) as conn:
            reader = conn.makefile("rb")
            if password is not None:
                conn.sendall(f"AUTH {password}\r\n".encode())
                reader.readline()
            conn.sendall(b"PING\r\n")
            reply = reader.readline().decode(errors="replace").strip()
    except OSError:
        return ""
    return reply.lstrip("+-").split(" ")[0]


def secured(port: int, password: str) -> bool:
    """Refuses a client without the password and accepts this installation's."""
    return ping(port) == "NOAUTH" and ping(port, password) == "PONG"


def start(layout: Layout, port: int, password: str) -> bool:
    """Start on `port`; False when the port was taken by then."""
    log = layout.log / "redis.log"
    since = log_size(log)
    (layout.run / "redis.pid").unlink(missing_ok=True)
    write_private(layout.gw / "redis.conf", conf_text(layout, port=port, password=password))
    started = subprocess.run(["redis-server", str(layout.gw / "redis.conf")], stdin=subprocess.DEVNULL,
                             capture_output=True, check=False)
    # It daemonizes before it binds: a taken port shows in its log, not in its exit code.
    if started.returncode == 0 and wait_until(lambda: bind_failed(log, since) or ping(port, password) == "PONG",
                                              seconds=START_TIMEOUT_S):
        return not bind_failed(log, since)
    raise fail(f"redis failed to start on {port}", log=log)


def ensure(layout: Layout, ports: Ports, password: str) -> None:
    """Start Redis if needed (restarting one that does not require this installation's password)."""
    if shutil.which("redis-server") is None:
        raise GwError("redis-server not found")
    port = ports.redis
    if pid(layout) is not None:
        if port is None:
            raise GwError("redis is running but .gw/ports.env lost its port; run ./gw stop")
        # Started before passwords existed (or with another one): restart it with this installation's.
        if not secured(port, password):
            say("redis", "restarting: it must require this installation's password")
            stop_server(layout)
    if pid(layout) is None or port is None:
        port = start_on_free_port(lambda candidate: start(layout, candidate, password), current=port,
                                  default=DEFAULT_REDIS_PORT, label="redis")
    ports.redis = port
    ports.save(layout.ports_file)
    if ping(port, password) != "PONG":
        raise fail(f"redis does not answer PING on {port}", log=layout.log / "redis.log")
    if not secured(port, password):
        raise GwError(f"redis on {port} answers without the password")
    ok("redis", f"running on {LOOPBACK}:{port} (password required)")


def stop_server(layout: Layout) -> None:
    stop(layout.run / "redis.pid", "redis-server", "redis", timeout_s=STOP_TIMEOUT_S)
