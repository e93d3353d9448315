"""Shared pieces of the benchmarks: percentiles, a real uvicorn server, a signed-in user, a
database emptied the way a first deployment starts (reference data such as rule sets kept), and
the floor of each measured operation.

The floor is the same work without the API: the SQL statements the endpoint's service runs, with
the same parameters, recorded once in this process (in a transaction rolled back) and then replayed
straight through a psycopg connection, interleaved with the API calls in the same run. Printed
beside the API figure, it tells a slow machine (both high, ratio steady) apart from slow code (the
ratio grows).
"""

from __future__ import annotations

import math
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

from core.celery_app import create_celery
from core.context import Actor
from core.database import create_session_factory, unit_of_work
from core.permissions import Role
from core.settings import Settings
from core.users import access
from core.users import service as user_service
from core.users.schemas import UserCreate
from gridwarden.domains import installed

REPO_ROOT = Path(__file__).resolve().parent.parent
SERVER_START_S = 30.0  # a fresh API process imports every domain first
METRES_PER_DEGREE_LAT = 111_320
# Loaded by the migrations, not by the data a benchmark measures (case deadlines need the calendar).
# Each screening activity with parameters a client would send; the benchmarks sample from these.
SCREENING_ACTIVITIES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("connection", {"requested_load_kw": 12}),
    ("building", {"height_m": 12}),
    ("excavation", {"depth_m": 2}),
    ("crane", {"max_height_m": 25, "working_radius_m": 15}),
    ("tree_planting", {"mature_height_m": 12}),
    ("blasting", {"charge_kg": 20}),
    ("kite_flying", {}),
    ("vehicle_passage", {"height_m": 4.5}),
)
# A vehicle passage is screened along its route; every other activity at a point or over a site.
ROUTE_HALF_LENGTH_DEG = 3e-4


def screening_point(activity: str, lon: float, lat: float) -> dict[str, Any]:
    """The geometry a client sends for `activity` at (lon, lat): a point, or for a vehicle a short
    route through it (about 60 m west to east)."""
    if activity == "vehicle_passage":
        return {"type": "LineString", "coordinates": [[lon - ROUTE_HALF_LENGTH_DEG, lat],
                                                      [lon + ROUTE_HALF_LENGTH_DEG, lat]]}
    return {"type": "Point", "coordinates": [lon, lat]}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def report(name: str, millis: list[float], extra: str = "") -> None:
    print(f"{name:<44} n={len(millis):<4} p50={percentile(millis, 0.5):7.1f} ms  "
          f"p95={percentile(millis, 0.95):7.1f} ms  max={max(millis):7.1f} ms {extra}")


def report_with_floor(name: str, api_ms: list[float], floor_ms: list[float], *, target_ms: float | None = None,
                      extra: str = "") -> None:
    """The API figure, its floor measured in the same run, and their ratio (p50 and p95 each)."""
    api50, api95 = percentile(api_ms, 0.5), percentile(api_ms, 0.95)
    floor50, floor95 = percentile(floor_ms, 0.5), percentile(floor_ms, 0.95)
    verdict = ""
    if target_ms is not None:
        verdict = f"  target p95 <= {target_ms:g} ms: {'met' if api95 <= target_ms else 'MISSED'} " \
                  f"({api95 / target_ms:.0%} of it)"
    print(f"{name:<44} n={len(api_ms):<4} API p50={api50:7.1f} p95={api95:7.1f} ms | floor p50={floor50:7.1f} "
          f"p95={floor95:7.1f} ms | API/floor p50 {api50 / floor50:4.2f} p95 {api95 / floor95:4.2f}{verdict}")
    if extra:
        print(f"{'':<44} {extra}")


@dataclass(frozen=True)
class Statement:
    """One SQL statement as the driver received it (psycopg `%(name)s` placeholders)."""

    sql: str
    params: Any
    many: bool


T = TypeVar("T")


def record_sql(engine: Engine, work: Callable[[Session], T]) -> tuple[T, list[Statement]]:
    """Run `work` in a session of `engine` and return its result and every statement it sent; the
    transaction is rolled back, so recording changes nothing."""
    statements: list[Statement] = []

    def listen(_conn: Any, _cursor: Any, sql: str, params: Any, _context: Any, many: bool) -> None:
        statements.append(Statement(sql, params, many))

    event.listen(engine, "before_cursor_execute", listen)
    try:
        with Session(engine) as db:
            try:
                result = work(db)
                db.flush()  # what the unit of work would write at commit (audit records, outbox events)
                return result, statements
            finally:
                db.rollback()
    finally:
        event.remove(engine, "before_cursor_execute", listen)


class Floor:
    """Replays recorded statements on one raw psycopg connection of `engine` (the same session
    settings as the API's connections), fetching every row, committing like the API's unit of work."""

    def __init__(self, engine: Engine) -> None:
        self._raw = engine.raw_connection()
        self.rows: list[int] = []  # rows returned by each statement of the last run

    def run(self, statements: list[Statement]) -> float:
        """Milliseconds for the whole replay."""
        connection = self._raw.driver_connection
        assert connection is not None
        rows = []
        started = time.perf_counter()
        with connection.cursor() as cursor:
            for statement in statements:
                if statement.many and isinstance(statement.params, list):  # not a batch of insertmanyvalues
                    cursor.executemany(statement.sql, statement.params)
                else:
                    cursor.execute(statement.sql, statement.params)
                rows.append(len(cursor.fetchall()) if cursor.description else cursor.rowcount)
        connection.commit()
        elapsed = (time.perf_counter() - started) * 1000
        self.rows = rows
        return elapsed

    def close(self) -> None:
        self._raw.close()


def timed(call: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = call()
    return result, (time.perf_counter() - started) * 1000


@contextmanager
def celery_worker(settings: Settings, *, name: str, concurrency: int, log_path: Path) -> Iterator[None]:
    """A prefork Celery worker (as deployed) on the settings' queue, answering a ping before the
    block starts and stopped when it ends; its log in `log_path` (nowhere without `.gw/log`)."""
    hostname = f"{name}-{os.getpid()}@{socket.gethostname()}"
    target = log_path if log_path.parent.is_dir() else Path(os.devnull)
    with target.open("ab") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "gridwarden.worker:celery_app", "worker", "--pool=prefork",
             f"--concurrency={concurrency}", "--loglevel=WARNING", f"--hostname={hostname}", "--without-gossip",
             "--without-mingle"], cwd=REPO_ROOT, env={**os.environ}, stdout=log, stderr=subprocess.STDOUT)
        try:
            celery = create_celery(settings)
            deadline = time.monotonic() + 90
            while not celery.control.ping(destination=[hostname], timeout=0.5):
                if worker.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the Celery worker {hostname} did not start; see {target}")
            yield
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_server(port: int, workers: int = 1, *, env: Mapping[str, str] | None = None,
                  start_timeout_s: float = SERVER_START_S) -> subprocess.Popen[bytes]:
    """A uvicorn API server on `port` (environment `env`, else this process's), once it answers."""
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app_from_env", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning", "--workers", str(workers)],
        cwd=REPO_ROOT, env={**(env if env is not None else os.environ)},
    )
    deadline = time.monotonic() + start_timeout_s
    while server.poll() is None and time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.terminate()
    raise SystemExit("the API server did not start")


def rss_mb(pid: int) -> float:
    """Resident memory of process `pid` (VmRSS in /proc), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise SystemExit(f"no VmRSS for pid {pid}")


def bbox_around(lon: float, lat: float, size_m: float) -> str:
    """A `bbox` query value: the square of `size_m` metres centred on (lon, lat)."""
    dlat = size_m / 2 / METRES_PER_DEGREE_LAT
    dlon = size_m / 2 / (METRES_PER_DEGREE_LAT * math.cos(math.radians(lat)))
    return f"{lon - dlon},{lat - dlat},{lon + dlon},{lat + dlat}"


def truncate_data(engine: Engine) -> None:
    keep = installed().reference_tables()
    with engine.begin() as conn:
        tables = [t for t in conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
                  .scalars() if t not in keep]
        conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))


def bench_user(settings: Settings, engine: Engine, role: Role) -> tuple[Actor, dict[str, str]]:
    """A bench user with `role` (created on first use) as the services see it, and its
    Authorization header for the API."""
    username = f"bench-{role.value}"
    with unit_of_work(create_session_factory(engine)) as db:
        user = user_service.get_by_username(db=db, username=username) or user_service.create(
            db=db, actor=Actor.system("bench"), user_in=UserCreate(username=username, role=role,
                                                                   password="bench-password-123"))
        user_id = user.id
        issued = access.issue_for(settings=settings.auth, user=user)
    return Actor(user_id=user_id, username=username, role=role), {"Authorization": f"Bearer {issued.access_token}"}


def bench_headers(settings: Settings, engine: Engine, role: Role) -> dict[str, str]:
    """Authorization header of a bench user with `role` (created on first use)."""
    return bench_user(settings, engine, role)[1]


@contextmanager
def api_server(headers: dict[str, str] | None = None, *, timeout: float = 30, workers: int = 1,
               env: Mapping[str, str] | None = None, start_timeout_s: float = SERVER_START_S
               ) -> Iterator[tuple[httpx.Client, int]]:
    """An HTTP client on a real uvicorn server of the API (loopback, its own process, `workers` worker
    processes, environment `env`) and the server's pid (with one worker: the process serving).
    Stopped after, killed if it does not stop."""
    port = _free_port()
    server = _start_server(port, workers, env=env, start_timeout_s=start_timeout_s)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", headers=headers or {}, timeout=timeout) as client:
            yield client, server.pid
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)


@contextmanager
def api_client(headers: dict[str, str], *, timeout: float = 30, workers: int = 1) -> Iterator[httpx.Client]:
    """An HTTP client on a real uvicorn server of the API (see `api_server`), stopped after."""
    with api_server(headers, timeout=timeout, workers=workers) as (client, _pid):
        yield client
