"""PostgreSQL restarted while requests are in flight: those requests get an honest 503 with
Retry-After, the pool reconnects by itself, later requests succeed, and no write is half-done."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from core.permissions import Role
from core.settings import Settings
from tests.faults.conftest import REPO_ROOT, ApiServer, wait_for

PG_CTL = "/usr/lib/postgresql/15/bin/pg_ctl"
PGDATA = REPO_ROOT / ".gw" / "pgdata"
WRITERS, READERS = 4, 2
SUCCESSES_AFTER_RESTART = 3  # per client: the service recovered for everyone, not for one lucky client


def restart_postgres() -> None:
    """`pg_ctl restart -m fast`: sessions are terminated and the server comes back, as in an upgrade."""
    if not (PGDATA / "PG_VERSION").exists():
        pytest.fail(f"this fault test restarts the local cluster ./gw runs ({PGDATA}); it does not exist here")
    command = [PG_CTL, "restart", "-D", str(PGDATA), "-m", "fast", "-w", "-t", "60",
               "-l", str(REPO_ROOT / ".gw" / "log" / "postgres.log")]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    subprocess.run(command, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=120)


@dataclass
class Client:
    """One client sending requests back to back and keeping every answer."""

    name: str
    answers: list[tuple[str, int, dict]] = field(default_factory=list)  # (external id or '', status, body)
    after_restart_ok: int = 0


def _line(ext: str, index: int) -> dict:
    lon = 110 + (index % 1000) * 0.001
    return {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[lon, 20.0], [lon, 20.01]]},
            "properties": {"external_id": ext, "construction": "overhead", "nominal_kv": 10,
                           "conductor_spread_m": 1.5}}


def _run(client: Client, server: ApiServer, headers: dict[str, str], writes: bool, restarted: threading.Event,
         stop: threading.Event) -> None:
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=60) as http:
        for i in range(100_000):
            if stop.is_set() or client.after_restart_ok >= SUCCESSES_AFTER_RESTART:
                return
            was_restarted = restarted.is_set()
            if writes:
                ext = f"{client.name}-{i}"
                response = http.post("/network/lines", json=_line(ext, i))
            else:
                ext = ""
                response = http.get("/network/lines", params={"limit": 50})
            body = response.json() if response.content else {}
            client.answers.append((ext, response.status_code, {**body, "headers": dict(response.headers)}))
            if was_restarted and response.status_code in {200, 201}:
                client.after_restart_ok += 1


def _ids(engine: Engine, sql: str) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(text(sql)).scalars())


def test_requests_in_flight_during_a_restart_get_503_later_ones_succeed_and_no_write_is_half_done(
    api_server: Callable[..., ApiServer], auth: Callable[[Role], dict[str, str]], owner_engine: Engine,
    app_engine: Engine,
) -> None:
    server = api_server()
    headers = auth(Role.dispatcher)
    restarted, stop = threading.Event(), threading.Event()
    clients = [Client(f"w{i}") for i in range(WRITERS)] + [Client(f"r{i}") for i in range(READERS)]
    threads = [threading.Thread(target=_run, args=(c, server, headers, c.name.startswith("w"), restarted, stop))
               for c in clients]
    for thread in threads:
        thread.start()
    try:
        wait_for("writes before the restart", lambda: True if sum(
            1 for c in clients for a in c.answers if a[1] == 201) >= 20 else None, timeout_s=120)
        restart_postgres()
        restarted.set()
        deadline = time.monotonic() + 180
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        assert not any(t.is_alive() for t in threads), "clients did not get their successes after the restart"
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        owner_engine.dispose()  # the session's pools hold connections the restart closed
        app_engine.dispose()

    answers = [a for c in clients for a in c.answers]
    statuses = {status for _ext, status, _body in answers}
    failed = [body for _ext, status, body in answers if status == 503]
    assert statuses <= {200, 201, 503}, f"unexpected statuses {statuses - {200, 201, 503}}"
    assert failed, "no request was in flight during the restart"
    for body in failed:
        assert body["headers"]["content-type"] == "application/problem+json"
        assert int(body["headers"]["retry-after"]) > 0
        assert body["service"] == "database" and body["status"] == 503
    assert all(c.after_restart_ok >= SUCCESSES_AFTER_RESTART for c in clients)

    created = {ext for ext, status, _body in answers if status == 201}
    ambiguous = {ext for ext, status, body in answers
                 if status == 503 and ext and body.get("reason") == "connection_lost_during_commit"}
    stored = _ids(owner_engine, "SELECT external_id FROM lines")
    audited = _ids(owner_engine, "SELECT l.external_id FROM lines l JOIN audit_log a "
                                 "ON a.entity_type = 'line' AND a.action = 'line.create' AND a.entity_id = l.id::text")
    announced = _ids(owner_engine, "SELECT l.external_id FROM lines l JOIN outbox_events e "
                                   "ON e.event_type = 'line.created' AND e.entity_id = l.id::text")
    assert created <= stored, "a write answered 201 is missing"
    assert stored <= created | ambiguous, "a write answered 503 'nothing was saved' was saved"
    assert stored == audited == announced, "a line without its audit record or outbox event"
    with owner_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_log WHERE action = 'line.create'")).scalar_one() \
            == len(stored)


def test_a_statement_timeout_is_a_503_that_says_so_not_a_lost_database(
    settings: Settings, auth: Callable[[Role], dict[str, str]], owner_engine: Engine,
) -> None:
    quick = settings.model_copy(update={"database": settings.database.model_copy(
        update={"statement_timeout_ms": 300})})
    with TestClient(create_app(quick), raise_server_exceptions=False) as client, owner_engine.connect() as holder:
        holder.execute(text("LOCK TABLE lines IN ACCESS EXCLUSIVE MODE"))  # a long migration, say
        response = client.get("/api/v1/network/lines", headers=auth(Role.dispatcher))
        holder.rollback()

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json" and int(response.headers["retry-after"]) > 0
    body = response.json()
    assert body["reason"] == "timeout" and "time limit" in body["detail"]
    assert "not reachable" not in body["detail"]
