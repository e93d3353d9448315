"""Helpers of the fault tests: workers, API servers and a database cluster that a test may kill.

Each test starts what it breaks as processes of its own (a Celery worker on a queue of its own, a
uvicorn server), so that killing them never disturbs the session-wide worker or other tests.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
import redis
from celery import Celery

from core.celery_app import create_celery
from core.settings import Settings, WorkerSettings

REPO_ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], T | None], *, timeout_s: float, interval_s: float = 0.05) -> T:
    """Poll `probe` until it returns something other than None, or fail naming `what`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = probe()
        if value is not None:
            return value
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class WorkerProcess:
    """A Celery worker (prefork, like production) in a process group of its own, on one queue."""

    def __init__(self, *, name: str, queue: str, log_path: Path, extra_env: dict[str, str]) -> None:
        self.hostname = f"{name}@{socket.gethostname()}"
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "gridwarden.worker:celery_app", "worker", "--pool=prefork",
             "--concurrency=1", "--loglevel=INFO", f"--hostname={self.hostname}", "--without-gossip",
             "--without-mingle"],
            cwd=REPO_ROOT, env={**os.environ, "GW_WORKER_QUEUE": queue, **extra_env},
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def wait_ready(self, celery: Celery, timeout_s: float = 90) -> None:
        def answered() -> bool | None:
            if self.process.poll() is not None:
                raise AssertionError(f"worker {self.hostname} exited during start-up:\n{self.log_tail()}")
            return True if celery.control.ping(destination=[self.hostname], timeout=0.5) else None

        wait_for(f"worker {self.hostname} to answer a ping", answered, timeout_s=timeout_s, interval_s=0.2)

    def kill_group(self) -> None:
        """SIGKILL the worker and its pool children at once: what an OOM kill or a lost host does."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
        self._log.close()

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture
def job_queue() -> str:
    """A queue name no other worker consumes (the session-wide worker listens on the default one)."""
    return f"faults-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def queue_settings(settings: Settings, job_queue: str) -> Settings:
    return settings.model_copy(update={"worker": WorkerSettings(queue=job_queue)})


@pytest.fixture
def queue_celery(queue_settings: Settings) -> Iterator[Celery]:
    celery = create_celery(queue_settings)
    yield celery
    celery.control.purge()  # nothing of this test left behind for the next worker on a fresh queue


@pytest.fixture
def start_worker(job_queue: str, queue_celery: Celery, tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start(name: str, celery: Celery | None = None, **extra_env: str) -> WorkerProcess:
        """`celery` (and GW_REDIS_URL in `extra_env`) when the worker is to use another broker."""
        worker = WorkerProcess(name=name, queue=job_queue, log_path=tmp_path / f"{name}.log", extra_env=extra_env)
        started.append(worker)
        worker.wait_ready(celery or queue_celery)
        return worker

    yield start
    for worker in started:
        worker.stop()


class ApiServer:
    """The API under uvicorn (its own process, real HTTP, the test environment's settings)."""

    def __init__(self, *, extra_env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/api/v1"
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app_from_env", "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "warning"],
            cwd=REPO_ROOT, env={**os.environ, **extra_env}, stdout=self._log, stderr=subprocess.STDOUT,
        )

        def up() -> bool | None:
            if self.process.poll() is not None:
                raise AssertionError(f"the API server exited during start-up; see {log_path}")
            try:
                return True if httpx.get(f"{self.base_url}/openapi.json", timeout=1).status_code == 200 else None
            except httpx.HTTPError:
                return None

        wait_for("the API server to answer", up, timeout_s=60, interval_s=0.2)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=20)
        self._log.close()


@pytest.fixture
def api_server(tmp_path: Path, owner_engine: object) -> Iterator[Callable[..., ApiServer]]:
    servers: list[ApiServer] = []

    def start(**extra_env: str) -> ApiServer:
        server = ApiServer(extra_env=extra_env, log_path=tmp_path / f"api-{len(servers)}.log")
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


class ThrowAwayRedis:
    """A redis-server of this test alone (no persistence), on a free port, to break at will."""

    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--logfile", str(log_path)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        self.client = redis.Redis.from_url(self.url)

        def pong() -> bool | None:
            try:
                return True if self.client.ping() else None
            except redis.exceptions.ConnectionError:
                return None

        wait_for("the throw-away redis-server", pong, timeout_s=30)

    def stop(self) -> None:
        self.client.close()
        self.process.terminate()
        self.process.wait(timeout=20)


@pytest.fixture
def throwaway_redis(tmp_path: Path) -> Iterator[ThrowAwayRedis]:
    server = ThrowAwayRedis(tmp_path / "redis.log")
    yield server
    server.stop()
