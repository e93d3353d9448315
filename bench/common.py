"""Shared pieces of the benchmarks: percentiles, a real uvicorn server, a signed-in user, and a
database emptied the way a first deployment starts (reference data such as rule sets kept)."""

from __future__ import annotations

import math
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import Engine, text

from core.context import Actor
from core.database import create_session_factory, unit_of_work
from core.permissions import Role
from core.settings import Settings
from core.users import access
from core.users import service as user_service
from core.users.schemas import UserCreate

REPO_ROOT = Path(__file__).resolve().parent.parent
# Loaded by the migrations, not by the data a benchmark measures.
REFERENCE_TABLES = ("alembic_version", "topology_state", "spatial_ref_sys", "rule_sets")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def report(name: str, millis: list[float], extra: str = "") -> None:
    print(f"{name:<44} n={len(millis):<4} p50={percentile(millis, 0.5):7.1f} ms  "
          f"p95={percentile(millis, 0.95):7.1f} ms  max={max(millis):7.1f} ms {extra}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_server(port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app_from_env", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        cwd=REPO_ROOT, env={**os.environ},
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("the API server did not start")


def truncate_data(engine: Engine) -> None:
    with engine.begin() as conn:
        tables = [t for t in conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
                  .scalars() if t not in REFERENCE_TABLES]
        conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))


def bench_headers(settings: Settings, engine: Engine, role: Role) -> dict[str, str]:
    """Authorization header of a bench user with `role` (created on first use)."""
    username = f"bench-{role.value}"
    with unit_of_work(create_session_factory(engine)) as db:
        user = user_service.get_by_username(db=db, username=username) or user_service.create(
            db=db, actor=Actor.system("bench"), user_in=UserCreate(username=username, role=role,
                                                                   password="bench-password-123"))
        issued = access.issue_for(settings=settings.auth, user=user)
    return {"Authorization": f"Bearer {issued.access_token}"}


@contextmanager
def api_client(headers: dict[str, str], *, timeout: float = 30) -> Iterator[httpx.Client]:
    """An HTTP client on a real uvicorn server of the API (loopback, its own process), stopped after."""
    port = _free_port()
    server = _start_server(port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", headers=headers, timeout=timeout) as client:
            yield client
    finally:
        server.terminate()
        server.wait(timeout=10)
