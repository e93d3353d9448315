"""Compressed answers: JSON, GeoJSON and tiles leave brotli- or gzip-compressed as the client's
Accept-Encoding asks (q-values honoured), with Vary: Accept-Encoding; small bodies and the event
stream go as they are."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable

import brotli
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.compression import CompressionSettings, choose_encoding
from core.permissions import Role
from core.settings import Settings
from tests.api.live_server import serve
from tests.core.events.sse import open_stream
from tests.factories import BASE_LAT, BASE_LON, created, linestring

Auth = Callable[[Role], dict[str, str]]


@pytest.mark.parametrize(("accept", "chosen"), [
    (None, None),
    ("", None),
    ("identity", None),
    ("gzip", "gzip"),
    ("br", "br"),
    ("gzip, deflate, br", "br"),
    ("gzip;q=1.0, br;q=0.5", "gzip"),
    ("br;q=0, gzip", "gzip"),
    ("br;q=0, gzip;q=0", None),
    ("*", "br"),
    ("*;q=0.2, br;q=0", "gzip"),
    ("deflate", None),
    ("GZIP;Q=0.8", "gzip"),
    ("gzip;q=nonsense, br;q=0.1", "br"),
])
def test_the_encoding_follows_accept_encoding_and_its_q_values(accept: str | None, chosen: str | None) -> None:
    assert choose_encoding(accept) == chosen


def _lines(client: TestClient, headers: dict[str, str], count: int) -> None:
    for n in range(count):
        lon = BASE_LON + n * 0.0005
        created(client, headers, "lines", geometry=linestring((lon, BASE_LAT), (lon + 0.0004, BASE_LAT + 0.0003)))


def test_a_geojson_page_is_sent_compressed_as_the_client_asks(client: TestClient, auth: Auth) -> None:
    headers = auth(Role.dispatcher)
    _lines(client, headers, 12)
    page = "/api/v1/network/lines?limit=1000"

    plain = client.get(page, headers={**headers, "Accept-Encoding": "identity"})
    as_br = client.get(page, headers={**headers, "Accept-Encoding": "gzip;q=0.5, br"})
    as_gzip = client.get(page, headers={**headers, "Accept-Encoding": "br;q=0, gzip"})

    assert plain.headers.get("content-encoding") is None
    assert as_br.headers["content-encoding"] == "br" and as_gzip.headers["content-encoding"] == "gzip"
    for response in (plain, as_br, as_gzip):
        assert response.headers["vary"] == "Accept-Encoding"
        assert response.headers["content-type"] == "application/geo+json"
    # The client decodes transparently; on the wire the body is smaller and decodes to the same page.
    assert as_br.json() == as_gzip.json() == plain.json()
    assert len(plain.json()["features"]) == 12
    wire_br, wire_gzip = int(as_br.headers["content-length"]), int(as_gzip.headers["content-length"])
    assert wire_br < len(plain.content) / 3 and wire_gzip < len(plain.content) / 3


def test_a_compressed_body_is_the_encoding_of_the_identity_body(settings: Settings, auth: Auth) -> None:
    """Read off the wire without the client's decoding: the bytes are brotli / gzip of the JSON."""
    from api.app import create_app

    app: FastAPI = create_app(settings)
    with TestClient(app) as client:
        headers = auth(Role.dispatcher)
        _lines(client, headers, 5)
        with client.stream("GET", "/api/v1/network/lines", headers={**headers, "Accept-Encoding": "br"}) as response:
            wire = b"".join(response.iter_raw())
        with client.stream("GET", "/api/v1/network/lines", headers={**headers, "Accept-Encoding": "gzip"}) as response:
            wire_gzip = b"".join(response.iter_raw())
        plain = client.get("/api/v1/network/lines", headers={**headers, "Accept-Encoding": "identity"}).content

    assert json.loads(brotli.decompress(wire)) == json.loads(gzip.decompress(wire_gzip)) == json.loads(plain)


def test_a_small_body_goes_uncompressed_but_still_says_vary(client: TestClient, auth: Auth) -> None:
    response = client.get("/api/v1/network/lines/999999", headers={**auth(Role.dispatcher), "Accept-Encoding": "br"})

    assert response.status_code == 404
    assert response.headers.get("content-encoding") is None
    assert response.headers["vary"] == "Accept-Encoding"


def test_a_tile_is_compressed_with_its_etag_unchanged_and_answers_304(
        client: TestClient, auth: Auth, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings.section(CompressionSettings), "min_bytes", 0)
    headers = auth(Role.dispatcher)
    _lines(client, headers, 3)
    tile = "/tiles/lines/14/13527/6663.mvt"  # the tile over BASE_LON, BASE_LAT

    plain = client.get(tile, headers={**headers, "Accept-Encoding": "identity"})
    compressed = client.get(tile, headers={**headers, "Accept-Encoding": "gzip"})
    again = client.get(tile, headers={**headers, "Accept-Encoding": "gzip",
                                      "If-None-Match": compressed.headers["etag"]})

    warm = client.get(tile, headers={**headers, "Accept-Encoding": "gzip"})

    assert plain.content and compressed.content == plain.content == warm.content
    assert compressed.headers["content-encoding"] == warm.headers["content-encoding"] == "gzip"
    assert compressed.headers["etag"] == plain.headers["etag"] == warm.headers["etag"]
    assert compressed.headers["vary"] == plain.headers["vary"] == again.headers["vary"] == "Accept-Encoding"
    assert again.status_code == 304


def test_a_compressed_records_etag_is_the_one_if_match_takes_back(client: TestClient, auth: Auth) -> None:
    """Browsers accept compression: the ETag they read must work in If-Match (a strong comparison)."""
    headers = auth(Role.dispatcher)
    line = created(client, headers, "lines", name="x" * 150, conductor_type="y" * 150,
                   geometry=linestring(*((BASE_LON + n * 0.0001, BASE_LAT + (n % 2) * 0.0001) for n in range(60))))
    read = client.get(f"/api/v1/network/lines/{line['id']}", headers={**headers, "Accept-Encoding": "br"})
    assert read.headers["content-encoding"] == "br"

    written = client.patch(f"/api/v1/network/lines/{line['id']}", json={"properties": {"name": "renamed"}},
                           headers={**headers, "If-Match": read.headers["etag"]})

    assert written.status_code == 200, written.text


def test_the_event_stream_is_never_compressed(app: FastAPI, auth: Auth) -> None:
    with serve(app) as (host, port), \
            open_stream(f"http://{host}:{port}", {**auth(Role.dispatcher), "Accept-Encoding": "br, gzip"}) as stream:
        assert stream.response.headers.get("content-encoding") is None
