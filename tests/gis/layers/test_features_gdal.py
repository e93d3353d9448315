"""A real GIS client on OGC API Features: GDAL's OAPIF driver (Debian gdal-bin's `ogrinfo` and
`ogr2ogr`) against the app served by uvicorn, signed in with a personal access token sent as HTTP
Basic (GDAL_HTTP_AUTH=BASIC, as QGIS stores it) or as a bearer header (GDAL_HTTP_HEADERS). Every
collection is read; a GeoPackage exported from the service has the API's features and coordinates;
customers reach the GeoPackage masked as the token owner's role requires."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from core.permissions import Permission, Role
from core.registry import Domains
from core.settings import Settings
from gis.customers.layers import CUSTOMERS
from gis.customers.privacy import mask_phone
from gis.layers.catalogue import all_layers
from gridwarden.domains import installed
from tests.api.live_server import serve
from tests.cases.conftest import connection_body
from tests.factories import created, linestring, point

Auth = Callable[[Role], dict[str, str]]
PHONE = "+86 138 0013 8000"
TRANSFORMERS = 23  # GDAL's OAPIF driver asks for pages of 10 unless told otherwise (-oo PAGE_SIZE)
GDAL_TIMEOUT_S = 120
# What GDAL is told besides the credential: no cached answers between runs, no retries hiding errors.
GDAL_ENV = {"GDAL_HTTP_TIMEOUT": "30", "GDAL_HTTP_MAX_RETRY": "0", "CPL_VSIL_CURL_NON_CACHED": "/vsicurl/",
            "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR"}


@pytest.fixture
def data(client: TestClient, auth: Auth) -> dict[str, Any]:
    """Lines (which derive their protection zones), transformers (more than GDAL's default page of 10,
    so it follows `next` links), a customer, a manual zone, a case."""
    dispatcher = auth(Role.dispatcher)
    lines = [created(client, dispatcher, "lines", nominal_kv=kv,
                     geometry=linestring((117.2272 + i / 100, 31.8206), (117.2372 + i / 100, 31.8256)))
             for i, kv in enumerate((10.0, 35.0, 10.0))]
    # Whole kVA on the first page, a fraction on a later one: field types come from the schema, not
    # from the first page (which would make rated_kva a whole-number column and cut 630.5 to 630).
    for i in range(TRANSFORMERS):
        created(client, dispatcher, "transformers", geometry=point(117.30 + i / 1000, 31.85),
                rated_kva=630.5 if i == TRANSFORMERS - 1 else 630.0)
    created(client, dispatcher, "customers", contact_phone=PHONE, geometry=point(117.31, 31.86))
    square = [[117.25, 31.80], [117.26, 31.80], [117.26, 31.81], [117.25, 31.81], [117.25, 31.80]]
    zone = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [square]},
            "properties": {"external_id": "mz-1", "authority": "Hefei planning bureau", "reason": "substation site",
                           "valid_from": "2020-01-01"}}
    assert client.post("/api/v1/zones/manual", json=zone, headers=dispatcher).status_code == 201
    case = client.post("/api/v1/cases", json=connection_body((117.40, 31.90)), headers=auth(Role.approver))
    assert case.status_code == 201, case.text
    return {"lines": lines}


# Every role reads customers today; an installation may grant it to fewer. This app's customers layer
# is read by dispatchers only (composed of the installed domains with that one layer changed).
DISPATCHERS_ONLY = Permission("customers:read", frozenset({Role.dispatcher}))
RESTRICTED_CUSTOMERS = dataclasses.replace(CUSTOMERS, read_permission=DISPATCHERS_ONLY)


@pytest.fixture
def url(app: FastAPI) -> Iterator[str]:
    with serve(app) as (host, port):
        yield f"http://{host}:{port}/ogc"


@pytest.fixture
def restricted_url(settings: Settings) -> Iterator[str]:
    domains = Domains(tuple(dataclasses.replace(d, layers=(f"{__name__}:RESTRICTED_CUSTOMERS",))
                            if d.name == "customers" else d for d in installed()))
    app = create_app(settings, domains=domains)
    with serve(app) as (host, port):
        yield f"http://{host}:{port}/ogc"
    app.state.engine.dispose()


def personal_token(client: TestClient, headers: dict[str, str]) -> str:
    response = client.post("/api/v1/users/me/tokens", json={"name": "GDAL"}, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


def gdal(*args: str, credential: dict[str, str]) -> str:
    done = subprocess.run(args, env={**os.environ, **GDAL_ENV, **credential}, capture_output=True, text=True,
                          timeout=GDAL_TIMEOUT_S, check=False)
    assert done.returncode == 0, f"{args}: {done.stderr}"
    return done.stdout


def basic(username: str, token: str) -> dict[str, str]:
    return {"GDAL_HTTP_AUTH": "BASIC", "GDAL_HTTP_USERPWD": f"{username}:{token}"}


def bearer(token: str) -> dict[str, str]:
    return {"GDAL_HTTP_HEADERS": f"Authorization: Bearer {token}"}


def listed_layers(url: str, credential: dict[str, str]) -> list[str]:
    """The layer names `ogrinfo` lists ("1: lines (Line String)")."""
    out = gdal("ogrinfo", "-ro", "-q", f"OAPIF:{url}", credential=credential)
    return [line.split(": ", 1)[1].split(" (")[0] for line in out.splitlines() if ": " in line]


def api_items(client: TestClient, headers: dict[str, str], layer: str) -> list[dict[str, Any]]:
    response = client.get(f"/ogc/collections/{layer}/items", params={"limit": 1000}, headers=headers)
    assert response.status_code == 200, response.text
    features: list[dict[str, Any]] = response.json()["features"]
    return features


def gpkg_features(path: Path, layer: str) -> list[dict[str, Any]]:
    """A GeoPackage layer's features as GeoJSON, read back by GDAL itself."""
    out = gdal("ogr2ogr", "-f", "GeoJSON", "/vsistdout/", str(path), layer, credential={})
    features: list[dict[str, Any]] = json.loads(out)["features"]
    return features


def same_properties(api: dict[str, Any], exported: dict[str, Any]) -> bool:
    """Every property the API gives, as the GeoPackage holds it: a string feature id becomes the
    property `id`; times are kept to the millisecond (GeoPackage's DATETIME)."""
    expected = {**api["properties"], **({"id": api["id"]} if isinstance(api["id"], str) else {})}
    got = exported["properties"]
    for name, value in expected.items():
        if isinstance(value, str) and value[:4].isdigit() and "T" in value:
            moment, held = datetime.fromisoformat(value), datetime.fromisoformat(got[name])
            if abs((moment - held).total_seconds()) > 0.001:
                return False
        elif got.get(name) != value:
            return False
    return True


def test_ogrinfo_lists_every_collection_with_a_token_as_basic_or_bearer(
        client: TestClient, auth: Auth, data: dict[str, Any], url: str) -> None:
    token = personal_token(client, auth(Role.inspector))
    expected = [layer.name for layer in all_layers()]

    assert listed_layers(url, basic("test-inspector", token)) == expected
    assert listed_layers(url, bearer(token)) == expected


def test_gdal_is_refused_without_a_valid_token(client: TestClient, auth: Auth, data: dict[str, Any],
                                               url: str) -> None:
    token = personal_token(client, auth(Role.inspector))
    for credential in ({}, basic("test-admin", token), bearer(token + "x")):
        done = subprocess.run(["ogrinfo", "-ro", "-q", f"OAPIF:{url}"], capture_output=True, text=True,
                              env={**os.environ, **GDAL_ENV, **credential}, timeout=GDAL_TIMEOUT_S, check=False)
        assert done.returncode != 0 and "401" in done.stderr, credential


def test_a_geopackage_exported_through_oapif_has_the_apis_features_and_coordinates(
        client: TestClient, auth: Auth, data: dict[str, Any], url: str, tmp_path: Path) -> None:
    headers = auth(Role.auditor)
    token = personal_token(client, headers)
    target = tmp_path / "gridwarden.gpkg"

    gdal("ogr2ogr", "-f", "GPKG", str(target), f"OAPIF:{url}", credential=basic("test-auditor", token))

    for layer in all_layers():
        api = api_items(client, headers, layer.name)
        exported = gpkg_features(target, layer.name)
        assert len(exported) == len(api), layer.name
        for mine, theirs in zip(api, exported, strict=True):
            assert theirs["geometry"] == mine["geometry"], layer.name
            assert same_properties(mine, theirs), layer.name
    assert [t["properties"]["rated_kva"] for t in gpkg_features(target, "transformers")][-2:] == [630, 630.5]
    customers = gpkg_features(target, "customers")
    assert [c["properties"]["contact_phone"] for c in customers] == [mask_phone(PHONE)]
    assert sum(1 for layer in all_layers() if gpkg_features(target, layer.name)) >= 6


def test_a_role_that_may_not_read_customers_gets_no_customers_collection(
        client: TestClient, auth: Auth, data: dict[str, Any], restricted_url: str) -> None:
    inspector = personal_token(client, auth(Role.inspector))
    dispatcher = personal_token(client, auth(Role.dispatcher))

    assert "customers" not in listed_layers(restricted_url, basic("test-inspector", inspector))
    assert "customers" in listed_layers(restricted_url, basic("test-dispatcher", dispatcher))
    done = subprocess.run(["ogrinfo", "-ro", "-q", f"OAPIF:{restricted_url}/collections/customers"],
                          env={**os.environ, **GDAL_ENV, **basic("test-inspector", inspector)},
                          capture_output=True, text=True, timeout=GDAL_TIMEOUT_S, check=False)
    assert done.returncode != 0 and "403" in done.stderr
