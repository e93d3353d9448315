"""Three API processes behind HAProxy: one killed with SIGKILL under load loses no accepted request.

Clients submit screenings, each with an Idempotency-Key of its own, and repeat a request with the same
key when the connection fails or the balancer answers 502/503/504 (what a client behind a load balancer
is told to do). Whatever the kill interrupts, every request ends answered, every answered screening is
stored exactly once, and HAProxy's health check takes the dead process out of the rotation; started
again, it is put back. HAProxy's access log says which process answered each request.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from sqlalchemy import Engine, text

from core.permissions import Role
from devstack.balancer import (
    ApiPool,
    access_log,
    kill_api_process,
    listens,
    restart_api_process,
    server_states,
    start_api_process,
)
from tests.faults.conftest import wait_for
from tests.scale.conftest import LAYOUT

SCREENINGS = "/api/v1/screenings"
CLIENTS = 4
REQUESTS_PER_CLIENT = 25
KILL_AFTER_ANSWERED = 20  # well before the end: the kill lands while every client is still sending
RETRIED_STATUSES = frozenset({502, 503, 504})  # the balancer's "try again": no process answered this request
RETRY_PAUSE_S = 0.2  # a client's pause before repeating a request (health checks run every second)
REQUEST_DEADLINE_S = 120  # a request not answered by then is lost, and the test fails
PROBE_REQUESTS = 12  # requests sent once the dead process is out: none may go to it
KILLED = 1  # the second API process (server api2)
HEFEI = (117.2272, 31.8206)  # no network mapped here: a screening with no findings, still stored


def _body(i: int) -> dict[str, object]:
    return {"geometry": {"type": "Point", "coordinates": [HEFEI[0] + i * 1e-4, HEFEI[1]]}, "activity": "connection",
            "parameters": {}}


@dataclass
class Load:
    """What the clients saw: the status each key was finally answered with, and how often they retried."""

    answered: dict[str, int] = field(default_factory=dict)
    retried: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def submit(client: httpx.Client, headers: dict[str, str], key: str, body: dict[str, object], load: Load) -> int:
    """POST until answered (not by the balancer's 502/503/504), repeating with the same Idempotency-Key."""
    deadline = time.monotonic() + REQUEST_DEADLINE_S
    while True:
        try:
            response = client.post(SCREENINGS, json=body, headers={**headers, "Idempotency-Key": key})
            if response.status_code not in RETRIED_STATUSES:
                with load.lock:
                    load.answered[key] = response.status_code
                return response.status_code
        except httpx.TransportError:
            pass  # the connection broke: the request may or may not have been done; the key makes repeating safe
        assert time.monotonic() < deadline, f"request {key} was not answered within {REQUEST_DEADLINE_S} s"
        with load.lock:
            load.retried += 1
        time.sleep(RETRY_PAUSE_S)


def _stored(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {key: count for key, count in conn.execute(text(
            "SELECT idempotency_key, count(*) FROM screenings GROUP BY idempotency_key"))}


def _logged(pool: ApiPool, request_id: str) -> str | None:
    """The balancer's access log line of the request the app answered with `request_id`, if written yet."""
    lines = access_log(LAYOUT, pool.name).read_text(encoding="utf-8").splitlines()
    return next((line for line in lines if f"{{{request_id}}}" in line), None)


def _requests_sent(pool: ApiPool, server: str) -> int:
    """How many requests HAProxy has sent to `server` (its stats socket's stot)."""
    return int(server_states(LAYOUT, name=pool.name)[server]["stot"])


def test_an_api_process_killed_under_load_loses_no_accepted_request_and_leaves_the_rotation(
        api_pool: ApiPool, auth: Callable[[Role], dict[str, str]], owner_engine: Engine) -> None:
    headers = auth(Role.dispatcher)
    load = Load()
    failures: list[BaseException] = []

    def client_loop(number: int) -> None:
        try:
            with httpx.Client(base_url=api_pool.url, timeout=30) as client:
                for i in range(REQUESTS_PER_CLIENT):
                    submit(client, headers, f"client-{number}-request-{i}", _body(number * REQUESTS_PER_CLIENT + i),
                           load)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)

    clients = [threading.Thread(target=client_loop, args=(n,)) for n in range(CLIENTS)]
    for thread in clients:
        thread.start()
    wait_for(f"{KILL_AFTER_ANSWERED} answers", lambda: True if len(load.answered) >= KILL_AFTER_ANSWERED else None,
             timeout_s=REQUEST_DEADLINE_S)
    kill_api_process(LAYOUT, name=api_pool.name, index=KILLED)
    killed_at = time.monotonic()
    answered_at_kill = len(load.answered)
    dead = f"api{KILLED + 1}"
    wait_for(f"HAProxy to mark {dead} down", lambda: True if server_states(
        LAYOUT, name=api_pool.name)[dead]["status"].startswith("DOWN") else None, timeout_s=30)
    down_after_s = time.monotonic() - killed_at
    for thread in clients:
        thread.join(timeout=REQUEST_DEADLINE_S * 2)

    assert not failures, failures
    total = CLIENTS * REQUESTS_PER_CLIENT
    assert answered_at_kill < total  # the kill came while the clients were sending
    assert len(load.answered) == total
    assert set(load.answered.values()) <= {200, 201}, load.answered  # 200: a repeat answered with the first result
    assert _stored(owner_engine) == {key: 1 for key in load.answered}
    print(f"\n{total} screenings through HAProxy, {dead} killed after {answered_at_kill}: {load.retried} client "
          f"retries, {sum(s == 200 for s in load.answered.values())} answered as repeats; {dead} out of the "
          f"rotation {down_after_s:.2f} s after the kill")

    sent_to_dead = _requests_sent(api_pool, dead)
    others_before = {name: _requests_sent(api_pool, name) for name in api_pool.server_names if name != dead}
    with httpx.Client(base_url=api_pool.url, timeout=30) as client:
        probes = [client.post(SCREENINGS, json=_body(total + i), headers={**headers, "Idempotency-Key": f"probe-{i}"})
                  for i in range(PROBE_REQUESTS)]
    assert [r.status_code for r in probes] == [201] * PROBE_REQUESTS  # at the first attempt: none went to the dead process
    assert _requests_sent(api_pool, dead) == sent_to_dead
    assert all(_requests_sent(api_pool, name) > before for name, before in others_before.items())  # still round robin
    # The balancer's access log names the process that answered each request, with the app's request id.
    for response in probes:
        line = wait_for(f"the access log line of request {response.headers['X-Request-ID']}",
                        lambda r=response: _logged(api_pool, r.headers["X-Request-ID"]), timeout_s=10)
        assert f'"POST {SCREENINGS} HTTP/1.1"' in line and " 201 " in line
        assert any(f" api/{name} " in line for name in api_pool.server_names if name != dead), line

    restart_api_process(LAYOUT, os.environ, name=api_pool.name, index=KILLED)
    restarted_at = time.monotonic()
    wait_for(f"HAProxy to put {dead} back", lambda: True if server_states(
        LAYOUT, name=api_pool.name)[dead]["status"] == "UP" else None, timeout_s=30)
    print(f"{dead} back in the rotation {time.monotonic() - restarted_at:.1f} s after it answered again")
    with httpx.Client(base_url=api_pool.url, timeout=30) as client:
        for i in range(PROBE_REQUESTS):
            response = client.post(SCREENINGS, json=_body(total + PROBE_REQUESTS + i),
                                   headers={**headers, "Idempotency-Key": f"after-restart-{i}"})
            assert response.status_code == 201, response.text
    assert _requests_sent(api_pool, dead) > sent_to_dead


def test_an_api_process_whose_port_another_program_holds_is_not_taken_for_started(owner_engine: Engine) -> None:
    # The pool's ports are in the kernel's ephemeral range: another program may bind one between the
    # free-port check and the start. Its answers must not pass for the new process's.
    with socket.socket() as other_program:
        other_program.bind(("127.0.0.1", 0))
        other_program.listen()
        port = other_program.getsockname()[1]
        assert listens(os.getpid(), port)

        try:
            started = start_api_process(LAYOUT, os.environ, name="test-taken-port", index=0, port=port)
        finally:
            (LAYOUT.run / "test-taken-port-api1.pid").unlink(missing_ok=True)

    assert started is None  # refused as "port taken": the pool then tries the next free port
    assert "address already in use" in (LAYOUT.log / "test-taken-port-api1.log").read_text(encoding="utf-8").lower()
