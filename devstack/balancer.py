"""Several API processes behind HAProxy on one port: the scale set-up's API (issue 14, "API replicas").

Each API process is a uvicorn server (`devstack.app.serve_command`) on a free port of its own; HAProxy
(Debian's package) listens on one port in front of them, round robin. Nothing an API process keeps is
needed by the next request: sessions and sign-in throttling live in Redis (`core.users.sessions`,
`core.users.throttle`), and the trace graph is a cache every process rebuilds. So any process may answer
any request, and losing one loses only the requests it was in the middle of.

What HAProxy is told, and why:
- health check `GET /api/v1/health` (`api.routers.health`). It answers 200, or 503 when a backing
  service shared by every process (database, Redis, S3, workers) is down. A 503 says nothing about this
  process, and taking every process out would turn a degraded service into none, so 200 and 503 both
  count as up; no answer (connection refused, a hung process) counts as down.
- live traffic is observed too (`observe layer4`): a connection refused marks the server down at once,
  before the next check.
- `retries` and `option redispatch`: a request whose connection failed never reached a process, so it is
  sent again, to another one. A request a process died in the middle of is not retried by HAProxy (it
  may have been done): the client gets a 502 and repeats it with the same Idempotency-Key.
- an access log, one line per request (`option httplog`: client, which API process answered, timings,
  status, bytes, the request line) with the app's `X-Request-ID` answer header captured in braces, so a
  line of `.gw/log/<pool>-haproxy.log` leads to the API process's own log lines for that request.
  HAProxy runs in the foreground (`-db`) under ./gw with its stdout going to that file: a daemonised
  HAProxy has no stdout, and this machine has no syslog to send to.
- no stats page. A stats socket for `show stat` (which server is up, how many requests each got) is a
  Unix socket in the run directory, mode 0600, read-only level: only this checkout's user reaches it.
- `X-Forwarded-For` from the client is dropped and set by HAProxy, so sign-in throttling counts the real
  client address (uvicorn trusts the header from 127.0.0.1 only: its --forwarded-allow-ips default).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from devstack.app import serve_command
from devstack.console import GwError, fail, ok
from devstack.layout import Layout, write_private
from devstack.ports import LOOPBACK, start_on_free_port
from devstack.processes import bind_failed, kill_group, log_size, stop, wait_until

DEFAULT_BALANCER_PORT = 58080  # high and project-specific, like devstack.ports' defaults
DEFAULT_API_POOL_PORT = 58100  # the API processes' ports are searched from here
HEALTH_PATH = "/api/v1/health"
API_START_TIMEOUT_S = 60  # the first start imports every domain (slow on a loaded 2-core machine)
API_STOP_TIMEOUT_S = 20
# uvicorn waits for open connections to close before it exits; HAProxy's pooled server-side connections
# may outlive it for a while, so a stopping process gives them this long, then exits (below the stop timeout).
GRACEFUL_SHUTDOWN_S = 10
BALANCER_START_TIMEOUT_S = 10
PROBE_TIMEOUT_S = 2
# HAProxy timings. The health check itself pings the Celery workers for up to 1.5 s
# (core.health.check_workers), so a check may take ~2 s; 5 s before it counts as failed.
CHECK_INTERVAL = "1s"
CHECK_TIMEOUT = "5s"
CHECKS_TO_FALL = 2  # two failed checks (~2 s) take a silent process out; a refused connection does at once
CHECKS_TO_RISE = 2
CONNECT_TIMEOUT = "2s"  # to a process on this machine: longer means it is hung
# Client and server inactivity: a long request (a batch of 1,000 screenings, an export) takes seconds.
REQUEST_TIMEOUT = "120s"
CONNECTION_RETRIES = 3  # one per other process, at most: then the client sees 503
MAX_CONNECTIONS = 2000
START_POLL_S = 0.2  # how often a starting process is checked
TCP_LISTEN = "0A"  # the state column of /proc/net/tcp
REQUEST_ID_HEADER = "X-Request-ID"  # core.context.REQUEST_ID_HEADER (devstack imports no app code)
REQUEST_ID_CAPTURE_LEN = 64  # the app's ids are 32 hex digits; a client's own may be longer


@dataclass(frozen=True)
class ApiPool:
    """A running pool: the balancer's URL and each API process's port and pid (index = server api<i+1>)."""

    name: str
    url: str
    balancer_port: int
    balancer_pid: int
    ports: tuple[int, ...]
    pids: tuple[int, ...]

    @property
    def server_names(self) -> tuple[str, ...]:
        return tuple(f"api{i}" for i in range(1, len(self.ports) + 1))


def reap_when_done(process: subprocess.Popen[bytes]) -> None:
    """Wait for `process` in a background thread. A process that ended stays a zombie until its parent
    waits for it, and a zombie still takes signals: `devstack.processes.stop` would wait its whole timeout
    for a process that has long exited when the pool was started by a long-lived caller (the tests)."""
    threading.Thread(target=process.wait, name=f"reap-{process.pid}", daemon=True).start()


def _state_file(layout: Layout, name: str) -> Path:
    return layout.run / f"{name}.json"


def _api_pid_file(layout: Layout, name: str, index: int) -> Path:
    return layout.run / f"{name}-api{index + 1}.pid"


def _haproxy_pid_file(layout: Layout, name: str) -> Path:
    return layout.run / f"{name}-haproxy.pid"


def stats_socket(layout: Layout, name: str) -> Path:
    return layout.sockdir / f"{name}-haproxy.sock"


def haproxy_config(*, port: int, api_ports: tuple[int, ...], socket_path: Path) -> str:
    """The HAProxy configuration (see the module docstring for each choice)."""
    servers = "\n".join(f"    server api{i} {LOOPBACK}:{api_port} check"
                        for i, api_port in enumerate(api_ports, start=1))
    return f"""# Written by ./gw (devstack/balancer.py); rewritten at every start.
global
    maxconn {MAX_CONNECTIONS}
    stats socket {socket_path} mode 600 level user
    log stdout format raw local0 info

defaults
    mode http
    log global
    option httplog
    timeout connect {CONNECT_TIMEOUT}
    timeout client {REQUEST_TIMEOUT}
    timeout server {REQUEST_TIMEOUT}
    timeout check {CHECK_TIMEOUT}
    retries {CONNECTION_RETRIES}
    option redispatch 1
    retry-on conn-failure
    option forwardfor

frontend gridwarden
    bind {LOOPBACK}:{port}
    http-request del-header X-Forwarded-For
    declare capture response len {REQUEST_ID_CAPTURE_LEN}
    http-response capture res.hdr({REQUEST_ID_HEADER}) id 0
    default_backend api

backend api
    balance roundrobin
    option httpchk
    http-check send meth GET uri {HEALTH_PATH}
    http-check expect rstatus ^(200|503)$
    default-server inter {CHECK_INTERVAL} fall {CHECKS_TO_FALL} rise {CHECKS_TO_RISE} observe layer4 error-limit 1 on-error mark-down
{servers}
"""


def _listening_inodes(port: int) -> set[str]:
    """The socket inodes listening on 127.0.0.1:`port` (the kernel's table, /proc/net/tcp)."""
    local = f"{socket.htonl(0x7F000001):08X}:{port:04X}"  # the table's byte order: 127.0.0.1 -> 0100007F
    rows = (line.split() for line in Path("/proc/net/tcp").read_text(encoding="ascii").splitlines()[1:])
    return {row[9] for row in rows if row[1] == local and row[3] == TCP_LISTEN}


def listens(pid: int, port: int) -> bool:
    """Process `pid` itself holds the socket listening on `port`: that something answers there is not
    enough, since the ports from DEFAULT_API_POOL_PORT are in the kernel's ephemeral range and another
    program may take one between `next_free` and the bind (the new process then fails to bind, while
    the other one answers)."""
    inodes = _listening_inodes(port)
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
    for fd in fds:
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:[") and target[len("socket:["):-1] in inodes:
            return True
    return False


def _start_listener(command: list[str], *, log: Path, pid_file: Path, port: int, seconds: float,
                    what: str, cwd: Path | None = None, env: Mapping[str, str] | None = None) -> int | None:
    """Start `command` (its output appended to `log`) and wait until the process itself listens on
    `port`; its pid, or None when the port was taken meanwhile (the caller tries another)."""
    start = log_size(log)
    with log.open("ab") as out:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    reap_when_done(process)
    pid_file.write_text(f"{process.pid}\n", encoding="utf-8")
    if wait_until(lambda: process.poll() is not None or listens(process.pid, port), seconds=seconds,
                  interval=START_POLL_S) and process.poll() is None:
        return process.pid
    process.kill()
    if bind_failed(log, start):
        return None
    raise fail(f"{what} did not start on port {port}", log=log)


def start_api_process(layout: Layout, env: Mapping[str, str], *, name: str, index: int, port: int) -> int | None:
    """API process `index` of pool `name` on `port`; its pid once it listens there, None when the port
    was taken meanwhile."""
    pythonpath = os.pathsep.join(filter(None, [str(layout.root), env.get("PYTHONPATH")]))
    return _start_listener([*serve_command(layout, port), "--log-level", "warning", "--timeout-graceful-shutdown",
                            str(GRACEFUL_SHUTDOWN_S)], log=layout.log / f"{name}-api{index + 1}.log",
                           pid_file=_api_pid_file(layout, name, index), port=port, seconds=API_START_TIMEOUT_S,
                           what=f"API process {index + 1} of {name}", cwd=layout.root,
                           env={**env, "PYTHONPATH": pythonpath})


def _start_haproxy(layout: Layout, *, name: str, port: int, api_ports: tuple[int, ...]) -> int | None:
    """HAProxy of pool `name` on `port`; its pid once it listens there, None when the port was taken."""
    config = layout.run / f"{name}-haproxy.cfg"
    write_private(config, haproxy_config(port=port, api_ports=api_ports, socket_path=stats_socket(layout, name)))
    log = access_log(layout, name)
    with log.open("w", encoding="utf-8") as out:
        checked = subprocess.run(["haproxy", "-c", "-q", "-f", str(config)], stdout=out, stderr=subprocess.STDOUT,
                                 check=False)
        if checked.returncode != 0:
            raise fail("the HAProxy configuration is invalid", log=log)
    # Its stdout is the access log (see the module docstring).
    return _start_listener(["haproxy", "-db", "-f", str(config)], log=log, pid_file=_haproxy_pid_file(layout, name),
                           port=port, seconds=BALANCER_START_TIMEOUT_S, what="HAProxy")


def access_log(layout: Layout, name: str) -> Path:
    """HAProxy's log of pool `name`: its start-up messages, then one line per request."""
    return layout.log / f"{name}-haproxy.log"


def _on_a_free_port(start: Callable[[int], int | None], *, default: int, label: str) -> tuple[int, int]:
    """`start(port)` on the first free port from `default`, moving on when the port is taken while
    starting (`ports.start_on_free_port`): (port, pid)."""
    started: dict[int, int] = {}

    def attempt(port: int) -> bool:
        pid = start(port)
        if pid is not None:
            started[port] = pid
        return pid is not None

    port = start_on_free_port(attempt, current=None, default=default, label=label)
    return port, started[port]


def start_api_pool(layout: Layout, env: Mapping[str, str], *, processes: int, name: str = "api-pool") -> ApiPool:
    """`processes` API processes and HAProxy in front of them; stops a pool of that name left running."""
    if processes < 1:
        raise GwError("an API pool needs at least one process")
    stop_api_pool(layout, name=name)
    for log in layout.log.glob(f"{name}-*.log"):  # a new pool starts with new logs; a restarted process appends
        log.unlink()
    ports: list[int] = []
    pids: list[int] = []
    try:
        for index in range(processes):
            def api_process(candidate: int, index: int = index) -> int | None:
                return start_api_process(layout, env, name=name, index=index, port=candidate)

            port, pid = _on_a_free_port(api_process, default=max([DEFAULT_API_POOL_PORT - 1, *ports]) + 1,
                                        label=f"{name} api{index + 1}")
            pids.append(pid)
            ports.append(port)
        balancer_port, balancer_pid = _on_a_free_port(
            lambda candidate: _start_haproxy(layout, name=name, port=candidate, api_ports=tuple(ports)),
            default=DEFAULT_BALANCER_PORT, label=f"{name} haproxy")
    except BaseException:
        _stop_processes(layout, name=name, count=len(pids) + 1)
        raise
    pool = ApiPool(name, f"http://{LOOPBACK}:{balancer_port}", balancer_port, balancer_pid, tuple(ports), tuple(pids))
    write_private(_state_file(layout, name), json.dumps(asdict(pool)) + "\n")
    ok("balancer", f"HAProxy on {pool.url} in front of {processes} API processes (ports "
                   f"{', '.join(map(str, ports))}; logs .gw/log/{name}-*.log)")
    return pool


def load_api_pool(layout: Layout, *, name: str = "api-pool") -> ApiPool | None:
    state = _state_file(layout, name)
    if not state.is_file():
        return None
    fields = json.loads(state.read_text(encoding="utf-8"))
    return ApiPool(**{**fields, "ports": tuple(fields["ports"]), "pids": tuple(fields["pids"])})


def kill_api_process(layout: Layout, *, name: str = "api-pool", index: int) -> None:
    """SIGKILL API process `index` (0-based): a crash, an OOM kill (fault tests)."""
    kill_group(_api_pid_file(layout, name, index), "uvicorn", timeout_s=API_STOP_TIMEOUT_S)


def restart_api_process(layout: Layout, env: Mapping[str, str], *, name: str = "api-pool", index: int) -> int:
    """Start API process `index` again on its port (HAProxy's checks bring it back); returns its pid."""
    pool = load_api_pool(layout, name=name)
    if pool is None:
        raise GwError(f"no API pool {name} is running")
    kill_api_process(layout, name=name, index=index)
    pid = start_api_process(layout, env, name=name, index=index, port=pool.ports[index])
    if pid is None:  # HAProxy sends this server's share to that port: it cannot move
        raise fail(f"port {pool.ports[index]} of API process {index + 1} was taken while it was down",
                   log=layout.log / f"{name}-api{index + 1}.log")
    pids = list(pool.pids)
    pids[index] = pid
    write_private(_state_file(layout, name), json.dumps(asdict(pool) | {"pids": pids}) + "\n")
    return pid


def server_states(layout: Layout, *, name: str = "api-pool") -> dict[str, dict[str, str]]:
    """HAProxy's view of each API process (`show stat` on the stats socket): status (UP, DOWN...) and
    stot (requests sent to it), by server name."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(PROBE_TIMEOUT_S)
        conn.connect(str(stats_socket(layout, name)))
        conn.sendall(b"show stat\n")
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    lines = b"".join(chunks).decode().splitlines()
    header = lines[0].lstrip("# ").split(",")
    rows = [dict(zip(header, line.split(","), strict=False)) for line in lines[1:] if line]
    return {row["svname"]: row for row in rows if row.get("pxname") == "api" and row["svname"].startswith("api")}


def _stop_processes(layout: Layout, *, name: str, count: int) -> None:
    stop(_haproxy_pid_file(layout, name), "haproxy", f"{name} haproxy", timeout_s=API_STOP_TIMEOUT_S)
    for index in range(count):
        stop(_api_pid_file(layout, name, index), "uvicorn", f"{name} api{index + 1}", timeout_s=API_STOP_TIMEOUT_S)


def stop_api_pool(layout: Layout, *, name: str = "api-pool") -> None:
    """Stop HAProxy and every API process of the pool `name` (nothing to do when none runs)."""
    pool = load_api_pool(layout, name=name)
    count = len(pool.ports) if pool else len(list(layout.run.glob(f"{name}-api*.pid")))
    _stop_processes(layout, name=name, count=count)
    for leftover in (_state_file(layout, name), layout.run / f"{name}-haproxy.cfg", stats_socket(layout, name)):
        leftover.unlink(missing_ok=True)
