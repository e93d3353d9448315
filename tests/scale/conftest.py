"""Fixtures of the multi-process set-up (issue 14, "the path past one node"): several API processes
behind HAProxy, and Celery workers each on its own kinds of job. Each fixture starts its processes under
a name of its own (state in .gw/run, logs in .gw/log) and stops everything it started.

The fault tests' queue fixtures are reused: a worker pool consumes the queues of a name no other worker
(the session-wide one) listens on.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator, Sequence

import pytest
from celery import Celery
from sqlalchemy import Engine

from devstack.balancer import ApiPool, start_api_pool, stop_api_pool
from devstack.layout import Layout
from devstack.worker_pool import WorkerPool, start_worker_pool, stop_worker_pool
from tests.conftest import REPO_ROOT
from tests.faults.conftest import job_queue, queue_celery, queue_settings, wait_for

__all__ = ["job_queue", "queue_celery", "queue_settings"]  # the fault tests' fixtures, used here too

LAYOUT = Layout(REPO_ROOT)
API_PROCESSES = 3
WORKER_START_TIMEOUT_S = 90  # a worker's first start imports every domain; the machine is shared


@pytest.fixture
def api_pool(owner_engine: Engine) -> Iterator[ApiPool]:
    """Three API processes on the test database behind HAProxy (its URL: `api_pool.url`)."""
    name = "test-api"  # one at a time: its state and logs in .gw/run and .gw/log are replaced by the next test's
    pool = start_api_pool(LAYOUT, os.environ, processes=API_PROCESSES, name=name)
    yield pool
    stop_api_pool(LAYOUT, name=name)


def worker_hostname(pool: WorkerPool, worker: str) -> str:
    return f"{pool.name}-{worker}@{socket.gethostname()}"


@pytest.fixture
def worker_pool(job_queue: str, queue_celery: Celery, owner_engine: Engine) -> Iterator[Callable[..., WorkerPool]]:
    """`worker_pool([("imports",), ("default", "events")], beat=True, GW_X="...")` starts one worker per
    entry (the kinds it consumes) on this test's queues, and waits until each answers a ping."""
    started: list[str] = []

    def start(workers: Sequence[Sequence[str]], *, beat: bool = False, **extra_env: str) -> WorkerPool:
        name = f"test-workers-{len(started) + 1}"  # logs in .gw/log, replaced by the next test's
        started.append(name)
        pool = start_worker_pool(LAYOUT, {**os.environ, "GW_WORKER_QUEUE": job_queue, **extra_env}, pool=name,
                                 workers=workers, beat=beat)
        for worker in pool.workers:
            hostname = worker_hostname(pool, worker.name)
            wait_for(f"worker {hostname} to answer a ping",
                     lambda h=hostname: True if queue_celery.control.ping(destination=[h], timeout=0.5) else None,
                     timeout_s=WORKER_START_TIMEOUT_S, interval_s=0.2)
        return pool

    yield start
    for name in started:
        stop_worker_pool(LAYOUT, pool=name)
