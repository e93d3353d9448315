"""The road network over HTTP: administrators replace it with a file, planners see which network
their travel times come from."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from core.permissions import Role
from tests.routing.road_files import write_gpkg, write_osm_pbf
from tests.routing.road_grid import EDGE_COUNT, SIZE, VERTEX_COUNT, node_point

IMPORTS, NETWORK = "/api/v1/roads/imports", "/api/v1/roads"
Auth = Callable[[Role], dict[str, str]]


def test_an_administrator_imports_an_extract_and_a_planner_sees_the_network(
        client: TestClient, auth: Auth, tmp_path: Path) -> None:
    pbf = write_osm_pbf(tmp_path / "town.osm.pbf")

    created = client.post(IMPORTS, headers=auth(Role.admin), files={"file": (pbf.name, pbf.read_bytes())})
    again = client.post(IMPORTS, headers=auth(Role.admin), files={"file": (pbf.name, pbf.read_bytes())})
    network = client.get(NETWORK, headers=auth(Role.dispatcher))

    assert created.status_code == 201, created.text
    assert created.json()["edges"] == EDGE_COUNT and created.json()["unchanged"] is False
    assert again.status_code == 200 and again.json()["unchanged"] is True
    body = network.json()
    assert network.status_code == 200
    assert (body["version"], body["edges"], body["vertices"]) == (created.json()["import_id"], EDGE_COUNT,
                                                                   VERTEX_COUNT)
    assert body["filename"] == "town.osm.pbf" and body["imported_at"]
    corner, far = node_point(0, 0), node_point(SIZE - 1, SIZE - 1)
    assert body["bbox"] == pytest.approx([corner.lon, corner.lat, far.lon, far.lat], abs=1e-7)


def test_a_dispatcher_may_not_replace_the_road_network(
        client: TestClient, auth: Auth, owner_engine: Engine, tmp_path: Path) -> None:
    pbf = write_osm_pbf(tmp_path / "town.osm.pbf")

    refused = client.post(IMPORTS, headers=auth(Role.dispatcher), files={"file": (pbf.name, pbf.read_bytes())})

    assert refused.status_code == 403
    with owner_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM road_imports")).scalar_one() == 0
    assert client.get(NETWORK, headers=auth(Role.inspector)).status_code == 403


def test_without_a_network_the_status_says_travel_is_estimated(client: TestClient, auth: Auth) -> None:
    body = client.get(NETWORK, headers=auth(Role.supervisor)).json()

    assert body["version"] is None and body["edges"] == 0 and body["bbox"] is None


def test_a_bad_road_file_is_a_problem_naming_the_feature(client: TestClient, auth: Auth, tmp_path: Path) -> None:
    corner = node_point(0, 0)
    bad = write_gpkg(tmp_path / "bad.gpkg", [{"geometry": shapely.Point(corner.lon, corner.lat),
                                              "highway": "residential"}])

    refused = client.post(IMPORTS, headers=auth(Role.admin), files={"file": (bad.name, bad.read_bytes())})

    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["errors"] == [{"field": "features[0]", "message": "not a line (Point)"}]
