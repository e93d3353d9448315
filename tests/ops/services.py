"""What `./gw` started for this checkout, found the way an attacker on the machine would: the ports and
unix sockets its processes listen on, read from /proc, checked against what `.gw/ports.env` records.

Also the probes the access tests use: a PostgreSQL login, a raw Redis command, a gRPC connection
without a client certificate.
"""

from __future__ import annotations

import os
import re
import socket
import ssl
import stat
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

from devstack.processes import pid_alive

REPO_ROOT = Path(__file__).resolve().parents[2]
GW_DIR = REPO_ROOT / ".gw"
# A client preface of HTTP/2 (what gRPC speaks) followed by an empty SETTINGS frame.
HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes.fromhex("000000040000000000")
# /proc/net/unix flag of a listening socket (__SO_ACCEPTCON).
UNIX_LISTENING = 0x10000


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines (comments and blanks ignored); {} when the file does not exist."""
    if not path.is_file():
        return {}
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, sep, value = line.strip().partition("=")
        if sep and not name.startswith("#"):
            values[name] = value
    return values


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        match = re.fullmatch(r"socket:\[(\d+)\]", target)
        if match:
            inodes.add(int(match.group(1)))
    return inodes


def listening_tcp_ports(pid: int) -> set[int]:
    """Every TCP port (IPv4 and IPv6) on which process `pid` accepts connections."""
    inodes = _socket_inodes(pid)
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text(encoding="ascii").splitlines()[1:]:
            cols = row.split()
            if cols[3] == "0A" and int(cols[9]) in inodes:  # 0A: LISTEN
                ports.add(int(cols[1].rsplit(":", 1)[1], 16))
    return ports


def listening_unix_sockets(pid: int) -> set[Path]:
    """Filesystem unix sockets on which process `pid` accepts connections (abstract ones excluded)."""
    inodes = _socket_inodes(pid)
    paths = set()
    for row in Path("/proc/net/unix").read_text(encoding="utf-8").splitlines()[1:]:
        cols = row.split()
        if len(cols) >= 8 and int(cols[6]) in inodes and int(cols[3], 16) & UNIX_LISTENING \
                and cols[7].startswith("/"):
            paths.add(Path(cols[7]))
    return paths


def connectable_by_others(path: Path) -> bool:
    """Connecting to a unix socket needs write permission on it: group/other write lets others in."""
    return bool(path.stat().st_mode & (stat.S_IWGRP | stat.S_IWOTH))


@dataclass(frozen=True)
class LocalService:
    """A service `./gw` runs for this checkout: its process and the ports it was given."""

    name: str
    pid: int
    ports: dict[str, int]
    http_ports: dict[str, int] = field(default_factory=dict)
    grpc_ports: dict[str, int] = field(default_factory=dict)


def local_services() -> dict[str, LocalService]:
    """The services of this checkout that are running, keyed postgres / redis / seaweedfs."""
    ports = {k: int(v) for k, v in read_env_file(GW_DIR / "ports.env").items() if v.isdigit()}
    found: dict[str, LocalService] = {}
    postgres = pid_alive(GW_DIR / "pgdata" / "postmaster.pid", "postgres")
    if postgres and "GW_PG_PORT" in ports:
        found["postgres"] = LocalService("postgres", postgres, {"postgres": ports["GW_PG_PORT"]})
    redis = pid_alive(GW_DIR / "run" / "redis.pid", "redis-server")
    if redis and "GW_REDIS_PORT" in ports:
        found["redis"] = LocalService("redis", redis, {"redis": ports["GW_REDIS_PORT"]})
    weed = pid_alive(GW_DIR / "run" / "weed.pid", "weed")
    if weed and "GW_S3_PORT" in ports:
        http = {"master": ports["GW_S3_MASTER_PORT"], "volume": ports["GW_S3_VOLUME_PORT"],
                "filer": ports["GW_S3_FILER_PORT"]}
        grpc = {"master gRPC": ports["GW_S3_MASTER_GRPC_PORT"], "volume gRPC": ports["GW_S3_VOLUME_GRPC_PORT"],
                "filer gRPC": ports["GW_S3_FILER_GRPC_PORT"], "S3 gRPC": ports["GW_S3_S3_GRPC_PORT"]}
        found["seaweedfs"] = LocalService("seaweedfs", weed, {"S3": ports["GW_S3_PORT"], **http, **grpc},
                                          http_ports=http, grpc_ports=grpc)
    return found


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int


def endpoint_of(url: str, default_port: int) -> Endpoint:
    parts = urlsplit(url)
    return Endpoint(parts.hostname or "127.0.0.1", parts.port or default_port)


def postgres_login_error(endpoint: Endpoint, *, user: str, password: str | None, dbname: str) -> str | None:
    """None if the login succeeded, else the server's (or libpq's) reason.

    No password file and no PGPASSWORD are consulted, so `password=None` really sends none.
    """
    params: dict[str, str | int] = {"host": endpoint.host, "port": endpoint.port, "user": user, "dbname": dbname,
                                    "passfile": os.devnull, "connect_timeout": 5, "sslmode": "disable"}
    if password is not None:
        params["password"] = password
    saved = os.environ.pop("PGPASSWORD", None)
    try:
        with psycopg.connect(**params):  # type: ignore[arg-type]
            return None
    except psycopg.OperationalError as exc:
        return str(exc)
    finally:
        if saved is not None:
            os.environ["PGPASSWORD"] = saved


def redis_reply(endpoint: Endpoint, *commands: bytes) -> list[bytes]:
    """The first line of Redis's reply to each inline command, on one fresh connection."""
    replies = []
    with socket.create_connection((endpoint.host, endpoint.port), timeout=5) as conn:
        reader = conn.makefile("rb")
        for command in commands:
            conn.sendall(command + b"\r\n")
            replies.append(reader.readline().rstrip(b"\r\n"))
    return replies


def grpc_answers_without_client_certificate(port: int) -> str | None:
    """What a gRPC port gave a client with no certificate of the installation's CA, or None if nothing.

    Tried twice: plain HTTP/2 (gRPC without TLS), then TLS without a client certificate. A port that
    enforces mutual TLS ends both with no HTTP/2 frame sent back.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(HTTP2_PREFACE)
        try:
            plain = conn.recv(64)
        except OSError:
            plain = b""
    if plain:
        return f"plain HTTP/2 answered {plain[:20]!r}"
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["h2"])
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
                context.wrap_socket(raw) as conn:
            conn.sendall(HTTP2_PREFACE)
            answer = conn.recv(64)
    except (ssl.SSLError, OSError):
        return None
    return f"TLS without a client certificate answered {answer[:20]!r}" if answer else None
