"""`./gw scale`: GridWarden as a province runs it, on one machine, with every part that scales out.

On top of `./gw setup`'s services it starts:
- a streaming read replica of PostgreSQL (`replica.py`): map lists, tiles and traces read from it,
  a user who has just written reads the primary until the replica has replayed that write;
- SeaweedFS as a cluster with three volume servers and replication 001 (`seaweed_cluster.py`): every
  object has two copies, and the loss of a volume server loses no object and stops no write;
- a pool of Celery workers with a queue per kind of job (`worker_pool.py`): a long import never
  delays an event or a photo check; beat runs once, beside them;
- several API processes behind HAProxy (`balancer.py`): one killed loses no accepted request.

The application is the same; only its environment differs (`GW_DATABASE_READ_URL`, `GW_S3_ENDPOINT`).
`./gw stop` stops all of it. The fault tests of these parts are in `tests/scale/` (run by `./gw test`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from devstack import app, balancer, replica, seaweed_cluster, secrets, worker_pool
from devstack.console import GwError, ok, say
from devstack.layout import Layout
from devstack.stack import setup

DEFAULT_API_PROCESSES = 3
API_POOL = "api-pool"
WORKER_POOL = "pool"


def scale_environment(layout: Layout, env: Mapping[str, str]) -> dict[str, str]:
    """`env` pointed at the replica (reads) and the replicated object storage, both started here."""
    standby = replica.ensure_replica(layout)
    cluster = seaweed_cluster.ensure_cluster(layout, secrets.read(layout.secrets_file))
    return {**env, "GW_DATABASE_READ_URL": replica.read_url(env["GW_DATABASE_URL"], standby),
            "GW_S3_ENDPOINT": cluster.endpoint}


def start(layout: Layout, environ: Mapping[str, str], *, processes: int) -> balancer.ApiPool:
    """Set up, migrate and seed as `./gw run` does, then start the scale set-up; returns the API pool."""
    if processes < 1:
        raise GwError("--api needs at least 1 process")
    env = scale_environment(layout, setup(layout, environ, migrate_demo=True))
    app.prepare_demo(layout, env, secrets.read(layout.secrets_file)["DEMO_PASSWORD"])
    # One beat and one consumer per queue: the single worker of `./gw run` must not run beside the pool.
    app.stop_worker(layout)
    worker_pool.stop_worker_pool(layout, pool=WORKER_POOL)
    workers = worker_pool.start_worker_pool(layout, env, pool=WORKER_POOL)
    say("workers", ", ".join(f"{w.name}: {' '.join(w.kinds)}" for w in workers.workers) + " (+ beat)")
    return balancer.start_api_pool(layout, env, processes=processes, name=API_POOL)


def stop(layout: Layout) -> None:
    """Stop every process `start` started (a checkout never in the scale set-up has none)."""
    balancer.stop_api_pool(layout, name=API_POOL)
    worker_pool.stop_worker_pool(layout, pool=WORKER_POOL)
    if (replica.data_dir(layout) / "PG_VERSION").is_file():
        replica.stop_replica(layout)
    seaweed_cluster.stop_cluster(layout)


def cmd_scale(layout: Layout, args: list[str]) -> None:
    """`./gw scale [--api N]`: start the scale set-up and say where it answers."""
    processes = DEFAULT_API_PROCESSES
    if args:
        if len(args) != 2 or args[0] != "--api" or not args[1].isdigit():
            raise GwError("usage: ./gw scale [--api N]")
        processes = int(args[1])
    pool = start(layout, os.environ, processes=processes)
    ok("scale", f"API on {pool.url} (docs {pool.url}/docs); ./gw stop stops everything")
