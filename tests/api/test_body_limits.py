"""Every request body has a ceiling: beyond it the API answers 413 naming the limit, and stops reading.

The limits are settings (`GW_API_MAX_JSON_BODY_BYTES`, `GW_API_MAX_UPLOAD_BYTES`); here an app is built
with small ones. The last tests run a real uvicorn server and talk to it over a socket, so they
show what a client on the network sees: the 413 arrives while most of the body is still unsent.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from core.permissions import Role
from core.settings import Settings
from tests.factories import feature, row_count, url

Auth = Callable[[Role], dict[str, str]]
JSON_LIMIT = 4096
UPLOAD_LIMIT = 8192


@pytest.fixture(scope="module")
def limited_app(settings: Settings, owner_engine: Engine) -> FastAPI:
    from api.app import create_app

    api = settings.api.model_copy(update={"max_json_body_bytes": JSON_LIMIT, "max_upload_bytes": UPLOAD_LIMIT})
    return create_app(settings.model_copy(update={"api": api}))


@pytest.fixture
def limited(limited_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(limited_app, raise_server_exceptions=False) as client:
        yield client


def long_line(vertices: int) -> dict[str, Any]:
    return {"type": "LineString", "coordinates": [[117.0 + i * 1e-5, 31.0] for i in range(vertices)]}


def assert_413(response: Any, limit: int) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert f"{limit} bytes" in response.json()["detail"]


def test_json_body_over_the_limit_is_413_naming_the_limit_and_stores_nothing(
        limited: TestClient, auth: Auth, owner_engine: Engine) -> None:
    body = feature("lines", geometry=long_line(400))
    assert len(json.dumps(body)) > JSON_LIMIT
    headers = auth(Role.dispatcher)
    audit_before = row_count(owner_engine, "audit_log")

    response = limited.post(url("lines"), json=body, headers=headers)

    assert_413(response, JSON_LIMIT)
    assert row_count(owner_engine, "lines") == 0 and row_count(owner_engine, "audit_log") == audit_before


def test_json_body_under_the_limit_is_served(limited: TestClient, auth: Auth) -> None:
    body = feature("lines", geometry=long_line(20))
    assert len(json.dumps(body)) < JSON_LIMIT

    assert limited.post(url("lines"), json=body, headers=auth(Role.dispatcher)).status_code == 201


def test_chunked_body_without_content_length_is_counted_too(
        limited: TestClient, auth: Auth, owner_engine: Engine) -> None:
    payload = json.dumps(feature("lines", geometry=long_line(400))).encode()

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(payload), 1000):
            yield payload[start:start + 1000]

    response = limited.post(url("lines"), content=chunks(),
                            headers={**auth(Role.dispatcher), "Content-Type": "application/json"})

    assert_413(response, JSON_LIMIT)
    assert row_count(owner_engine, "lines") == 0


def test_uploads_have_their_own_larger_limit(limited: TestClient, auth: Auth) -> None:
    between = b" " * (JSON_LIMIT + 1000)  # too big for JSON, fine for an upload (an empty file: 422)
    over = b" " * (UPLOAD_LIMIT * 20)

    fits = limited.post("/api/v1/imports/geo", headers=auth(Role.admin), data={"layer": "lines"},
                        files={"file": ("a.geojson", between, "application/geo+json")})
    refused = limited.post("/api/v1/imports/geo", headers=auth(Role.admin), data={"layer": "lines"},
                           files={"file": ("a.geojson", over, "application/geo+json")})

    assert fits.status_code != 413, fits.text
    assert refused.status_code == 413 and refused.headers["content-type"] == "application/problem+json"


# --- over the network: the server answers without reading the body -----------------------------------------------


@pytest.fixture(scope="module")
def server(limited_app: FastAPI) -> Iterator[tuple[str, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(limited_app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not instance.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield "127.0.0.1", port
    instance.should_exit = True
    thread.join(timeout=10)


def read_response(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (or 10 s pass)."""
    sock.settimeout(10)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return data


def test_declared_length_over_the_limit_is_refused_before_the_body_is_sent(server: tuple[str, int]) -> None:
    with socket.create_connection(server) as sock:
        sock.sendall(b"POST /api/v1/screenings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 50000000\r\n\r\n" + b"[" * 100)  # 50 MB announced, 100 bytes sent

        answer = read_response(sock)

    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b"connection: close" in head.lower()
    assert f"{JSON_LIMIT} bytes".encode() in body


def test_chunked_body_is_cut_off_at_the_limit(server: tuple[str, int]) -> None:
    with socket.create_connection(server) as sock:
        sock.sendall(b"POST /api/v1/screenings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        chunk = b"[" * 2000
        for _ in range(3):  # 6,000 bytes: over the 4,096 limit; the chunked body never ends
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))

        answer = read_response(sock)

    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    assert f"{JSON_LIMIT} bytes".encode() in answer
