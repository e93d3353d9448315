"""Which ports this checkout's services use, chosen once and remembered in `.gw/ports.env`.

Defaults are high and project-specific, so they never clash with a system PostgreSQL (5432) or Redis
(6379). A port taken by anything that is not this checkout's service (another checkout, another
program) moves the service to the next free one, and the choice is remembered.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

from devstack.console import GwError, warn

DEFAULT_PG_PORT = 55432
DEFAULT_REDIS_PORT = 56379
DEFAULT_S3_PORT = 58333
LOOPBACK = "127.0.0.1"
HIGHEST_PORT = 65535
# How far the search goes: 200 candidates (2,000 ports for SeaweedFS's blocks of ten).
SEARCH_CANDIDATES = 200
# Starts tried when a chosen port is taken before the server binds it (see start_on_free_port).
BIND_ATTEMPTS = 5
# SeaweedFS needs eight ports (WeedPorts); blocks start ten apart so a taken block is skipped whole.
WEED_PORT_COUNT = 8
WEED_BLOCK_STEP = 10


def port_free(port: int) -> bool:
    """Nothing answers on 127.0.0.1:`port` and it can be bound there."""
    with socket.socket() as probe:
        probe.settimeout(1)
        if probe.connect_ex((LOOPBACK, port)) == 0:
            return False
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def next_free(start: int, *, step: int = 1, count: int = 1) -> int:
    """The first base >= `start` (in `step`s) whose `count` consecutive ports are all free."""
    base = start
    for _ in range(SEARCH_CANDIDATES):
        if base + count - 1 <= HIGHEST_PORT and all(port_free(base + i) for i in range(count)):
            return base
        base += step
    raise GwError(f"no {count} free consecutive port(s) from {start}")


def choose(current: int | None, *, default: int, label: str, step: int = 1, count: int = 1) -> int:
    """`current` if its ports are still free, else the next free from `default` (with a warning when a
    remembered port moves)."""
    if current is not None and all(port_free(current + i) for i in range(count)):
        return current
    chosen = next_free(default, step=step, count=count)
    if current is not None and current != chosen:
        warn(label, f"port {current} is taken, using {chosen}")
    return chosen


def start_on_free_port(start: Callable[[int], bool], *, current: int | None, default: int, label: str,
                       step: int = 1, count: int = 1) -> int:
    """Choose the port(s) and start the server on them; `start(port)` is False when the server could not
    bind. A port free when checked can be taken before the server binds it: the defaults lie in Linux's
    ephemeral range (32768-60999), where any program's outgoing connection may get one at any moment.
    Then the next free port(s) are tried."""
    for _ in range(BIND_ATTEMPTS):
        port = choose(current, default=default, label=label, step=step, count=count)
        if start(port):
            return port
        warn(label, f"port {port} (or one after it) was taken while starting, trying the next free one")
        current, default = None, port + step
    raise GwError(f"{label}: every port tried was taken while starting ({BIND_ATTEMPTS} attempts)")


@dataclass(frozen=True)
class WeedPorts:
    """SeaweedFS's ports from one base: S3, master, volume, filer, then their gRPC ports (weed defaults
    gRPC to port+10000, which overflows 65535 for ports this high)."""

    s3: int
    master: int
    volume: int
    filer: int
    master_grpc: int
    volume_grpc: int
    filer_grpc: int
    s3_grpc: int

    @classmethod
    def from_base(cls, base: int) -> WeedPorts:
        return cls(*(base + offset for offset in range(WEED_PORT_COUNT)))

    def grpc(self) -> tuple[int, ...]:
        return self.master_grpc, self.volume_grpc, self.filer_grpc, self.s3_grpc


@dataclass
class Ports:
    """The ports recorded in `.gw/ports.env`; None: not chosen yet."""

    pg: int | None = None
    redis: int | None = None
    s3: int | None = None

    @classmethod
    def load(cls, path: Path) -> Ports:
        values: dict[str, int] = {}
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                name, _, value = line.partition("=")
                if value.strip().isdigit():
                    values[name.strip()] = int(value)
        return cls(**{f.name: values.get(f"GW_{f.name.upper()}_PORT") for f in fields(cls)})

    def render(self) -> str:
        def shown(port: int | None) -> str:
            return "" if port is None else str(port)

        text = ("# Ports chosen by ./gw for this checkout (delete this file to re-pick defaults).\n"
                f"GW_PG_PORT={shown(self.pg)}\nGW_REDIS_PORT={shown(self.redis)}\nGW_S3_PORT={shown(self.s3)}\n")
        if self.s3 is not None:
            weed = WeedPorts.from_base(self.s3)
            text += ("# The other SeaweedFS ports, derived from GW_S3_PORT (devstack/ports.py WeedPorts); written "
                     "for tools and tests.\n"
                     f"GW_S3_MASTER_PORT={weed.master}\nGW_S3_VOLUME_PORT={weed.volume}\n"
                     f"GW_S3_FILER_PORT={weed.filer}\nGW_S3_MASTER_GRPC_PORT={weed.master_grpc}\n"
                     f"GW_S3_VOLUME_GRPC_PORT={weed.volume_grpc}\nGW_S3_FILER_GRPC_PORT={weed.filer_grpc}\n"
                     f"GW_S3_S3_GRPC_PORT={weed.s3_grpc}\n")
        return text

    def save(self, path: Path) -> None:
        path.write_text(self.render(), encoding="utf-8")
