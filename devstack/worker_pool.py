"""Several Celery workers, each consuming its own kinds of job, and one beat: the scale set-up's workers.

`./gw run` starts one worker that consumes every queue (`devstack.app.start_worker`). Past one node the
kinds of job are split (issue 14): a worker busy with an hour-long import must not hold up an event's
webhooks or a photo check, so imports get workers of their own. The queue of a kind is
`<GW_WORKER_QUEUE>.<kind>` and the default queue is `GW_WORKER_QUEUE` itself (the naming rule of
`core.settings.WorkerSettings.queue_of_kind`; devstack imports nothing of the application, so it is
repeated here and tests/scale checks the two agree by running real tasks).

Beat runs as a process of its own, not inside a worker: it is a singleton (two beats send every periodic
job twice), and it must outlive any one worker, since its import relay is what re-sends the job of a
worker that died (`gis.imports.tasks.relay_jobs`).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from devstack.app import WORKER_APP, WORKER_STOP_TIMEOUT_S
from devstack.balancer import reap_when_done
from devstack.console import fail, ok
from devstack.layout import Layout
from devstack.processes import kill_group, pid_alive, stop, wait_until

DEFAULT_QUEUE_KIND = "default"  # the name a pool uses for `GW_WORKER_QUEUE` itself (tasks of no kind)
DEFAULT_WORKER_QUEUE = "celery"  # WorkerSettings.queue's default
# The scale set-up's split: imports (long) alone; everything quick together.
SCALE_WORKERS: tuple[tuple[str, ...], ...] = (("imports",), (DEFAULT_QUEUE_KIND, "events", "verification", "planning"))
POOL_WORKER_CONCURRENCY = 1  # per worker: the machine has 2 cores; scale out with more workers, not more children
POOL_START_TIMEOUT_S = 60  # a worker's first start imports every domain (slow under load)


@dataclass(frozen=True)
class PoolWorker:
    """One worker of a pool: its name (Celery hostname `<name>@<host>`), kinds and main process id."""

    name: str
    kinds: tuple[str, ...]
    pid: int


@dataclass(frozen=True)
class WorkerPool:
    name: str
    workers: tuple[PoolWorker, ...]


def queue_names(env: Mapping[str, str], kinds: Sequence[str]) -> list[str]:
    """The Celery queue of each kind (see the module docstring for the naming rule)."""
    base = env.get("GW_WORKER_QUEUE") or DEFAULT_WORKER_QUEUE
    return [base if kind == DEFAULT_QUEUE_KIND else f"{base}.{kind}" for kind in kinds]


def _pid_file(layout: Layout, pool: str, worker: str) -> Path:
    return layout.run / f"{pool}-{worker}.pid"


def _spawn(layout: Layout, env: Mapping[str, str], command: Sequence[str], *, log: Path) -> subprocess.Popen[bytes]:
    """A process in a session of its own (killing its group takes its pool children with it)."""
    pythonpath = os.pathsep.join(filter(None, [str(layout.root), env.get("PYTHONPATH")]))
    with log.open("ab") as out:
        process = subprocess.Popen(list(command), cwd=layout.root, env={**env, "PYTHONPATH": pythonpath},
                                   stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    reap_when_done(process)
    return process


def start_pool_worker(layout: Layout, env: Mapping[str, str], *, pool: str, name: str,
                      kinds: Sequence[str]) -> PoolWorker:
    """One prefork worker consuming the queues of `kinds`; waits until its main process is up."""
    pid_file = _pid_file(layout, pool, name)
    pid_file.unlink(missing_ok=True)
    log = layout.log / f"{pool}-{name}.log"
    process = _spawn(layout, env, [
        str(layout.bin("celery")), "--workdir", str(layout.root), "-A", WORKER_APP, "worker", "--pool=prefork",
        f"--concurrency={POOL_WORKER_CONCURRENCY}", "--loglevel=INFO", f"--hostname={pool}-{name}@%h",
        "-Q", ",".join(queue_names(env, kinds)), f"--pidfile={pid_file}", "--without-gossip", "--without-mingle"],
        log=log)
    if not wait_until(lambda: process.poll() is not None or pid_alive(pid_file, "celery") is not None,
                      seconds=POOL_START_TIMEOUT_S, interval=0.2) or process.poll() is not None:
        raise fail(f"celery worker {pool}-{name} did not start", log=log)
    ok("celery", f"worker {pool}-{name} started on {', '.join(kinds)} (pid {process.pid}, log {log.name})")
    return PoolWorker(name, tuple(kinds), process.pid)


def start_worker_pool(layout: Layout, env: Mapping[str, str], *, pool: str = "pool",
                      workers: Sequence[Sequence[str]] = SCALE_WORKERS, beat: bool = True) -> WorkerPool:
    """A worker per entry of `workers` (the kinds it consumes; `default` is the default queue), named
    w1, w2..., and with `beat` one beat process. Every queue must have a consumer, or its jobs wait forever."""
    for log in layout.log.glob(f"{pool}-*.log"):  # a new pool starts with new logs
        log.unlink()
    started = tuple(start_pool_worker(layout, env, pool=pool, name=f"w{i}", kinds=kinds)
                    for i, kinds in enumerate(workers, start=1))
    if beat:
        log = layout.log / f"{pool}-beat.log"
        process = _spawn(layout, env, [
            str(layout.bin("celery")), "--workdir", str(layout.root), "-A", WORKER_APP, "beat", "--loglevel=INFO",
            f"--schedule={layout.run / f'{pool}-celerybeat-schedule'}",
            f"--pidfile={_pid_file(layout, pool, 'beat')}"], log=log)
        ok("celery", f"beat started (pid {process.pid}, log {log.name})")
    return WorkerPool(pool, started)


def kill_pool_worker(layout: Layout, *, pool: str, name: str) -> None:
    """SIGKILL a worker and its pool children at once: what an OOM kill or a lost host does (tests)."""
    kill_group(_pid_file(layout, pool, name), "celery", timeout_s=WORKER_STOP_TIMEOUT_S)


def stop_worker_pool(layout: Layout, *, pool: str = "pool") -> None:
    """Stop every process of the pool (workers finish their current job within the stop timeout)."""
    for pid_file in sorted(layout.run.glob(f"{pool}-*.pid")):
        stop(pid_file, "celery", f"celery {pid_file.stem}", timeout_s=WORKER_STOP_TIMEOUT_S)
    for schedule in layout.run.glob(f"{pool}-celerybeat-schedule*"):  # beat's state: the next beat starts afresh
        schedule.unlink()
