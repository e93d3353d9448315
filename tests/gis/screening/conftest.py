"""Shared helpers for the rule-set, zone and screening tests.

Geometry is built by hand on the WGS84 ellipsoid with `pyproj.Geod`, independently of PostGIS: a
line is a geodesic through a reference point on a given bearing, and a test point is the end of a
geodesic leaving that reference point at right angles, so its distance to the centre line is the
distance walked. Everything else goes through the HTTP API as a dispatcher would use it.

The zone and rule-set modules import these helpers (`from tests.gis.screening.conftest import ...`);
pytest also loads this file as the conftest of the screening tests.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pyproj import Geod
from shapely.geometry import Point, shape
from sqlalchemy import Engine, text

from core.permissions import Role
from tests.factories import feature

Auth = Callable[[Role], dict[str, str]]
LonLat = tuple[float, float]

GEOD = Geod(ellps="WGS84")
PROBLEM = "application/problem+json"
SCREENINGS = "/api/v1/screenings"
ZONES = "/api/v1/zones"
RULE_SETS = "/api/v1/rule-sets"
RULE_SET_DIR = Path(__file__).resolve().parents[3] / "gis" / "data" / "rule_sets"
CN_FILE = RULE_SET_DIR / "cn-epp-2011.2.json"
CN_FILE_2011_1 = RULE_SET_DIR / "cn-epp-2011.1.json"
US_FILE = RULE_SET_DIR / "us-osha-2010.2.json"
US_FILE_2010_1 = RULE_SET_DIR / "us-osha-2010.1.json"

# Reference points: equator, southern mid-latitude, Hammerfest (69.6° N) and Svalbard-like 80° N.
EQUATOR: LonLat = (10.0, 0.0)
SOUTH_45: LonLat = (170.5, -45.0)
ARCTIC: LonLat = (23.68, 69.6)
FAR_NORTH: LonLat = (16.0, 80.0)
NORTH_45: LonLat = (7.5, 45.0)
HEFEI: LonLat = (117.2272, 31.8206)
NORTH, EAST = 0.0, 90.0

# Where hand-built cases are repeated: three latitudes (one above 60°), lines running N-S and E-W.
LATITUDES = [pytest.param(EQUATOR, id="equator"), pytest.param(SOUTH_45, id="45S"), pytest.param(ARCTIC, id="69.6N")]
BEARINGS = [pytest.param(NORTH, id="N-S"), pytest.param(EAST, id="E-W")]
SITES = [pytest.param(EQUATOR, NORTH, id="equator-N-S"), pytest.param(SOUTH_45, EAST, id="45S-E-W"),
         pytest.param(ARCTIC, NORTH, id="69.6N-N-S"), pytest.param(ARCTIC, EAST, id="69.6N-E-W")]

# Tables `count_rows` may read (a table name cannot be a bound parameter).
_COUNTABLE = frozenset({"screenings", "line_zones", "lines", "built_up_areas", "rule_sets"})


def moved(origin: LonLat, azimuth: float, distance_m: float) -> LonLat:
    """The point `distance_m` from `origin` along the geodesic leaving it at `azimuth` (degrees)."""
    lon, lat, _ = GEOD.fwd(origin[0], origin[1], azimuth, distance_m)
    return lon, lat


def beside(origin: LonLat, bearing: float, distance_m: float, *, side: int = 1) -> LonLat:
    """A point `distance_m` from a line of `bearing` through `origin`, to its right (side=1) or left."""
    return moved(origin, bearing + 90.0 * side, distance_m)


def geodesic_line(origin: LonLat, bearing: float, half_length_m: float = 150.0) -> dict[str, Any]:
    """A GeoJSON LineString along one geodesic, with `origin` as its middle vertex."""
    start = moved(origin, bearing + 180.0, half_length_m)
    end = moved(origin, bearing, half_length_m)
    return {"type": "LineString", "coordinates": [list(start), list(origin), list(end)]}


def point(at: LonLat) -> dict[str, Any]:
    return {"type": "Point", "coordinates": list(at)}


def square(centre: LonLat, half_side_m: float) -> dict[str, Any]:
    """A GeoJSON Polygon: a square of 2 x `half_side_m` around `centre`, corners walked geodesically."""
    north, south = moved(centre, NORTH, half_side_m), moved(centre, 180.0, half_side_m)
    west, east = moved(centre, 270.0, half_side_m)[0], moved(centre, EAST, half_side_m)[0]
    corners = [(west, south[1]), (east, south[1]), (east, north[1]), (west, north[1]), (west, south[1])]
    return {"type": "Polygon", "coordinates": [[list(c) for c in corners]]}


def geodesic_length(line: dict[str, Any]) -> float:
    coords = line["coordinates"]
    return sum(GEOD.inv(*a, *b)[2] for a, b in itertools.pairwise(coords))


def contains(zone: dict[str, Any], at: LonLat) -> bool:
    return bool(shape(zone["geometry"]).contains(Point(at)))


def count_rows(engine: Engine, table: str) -> int:
    """Rows in a table, read as the schema owner (bypasses the API)."""
    if table not in _COUNTABLE:
        raise ValueError(f"count_rows does not know table {table!r}")
    with engine.connect() as conn:
        return conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()


def read_rule_file(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """The RFC 9457 problem+json body of a request refused with `status`."""
    assert (response.status_code, response.headers["content-type"]) == (status, PROBLEM), response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"]
    return body


def assert_includes(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    """`actual` has every key of `expected` with that value (and may have more)."""
    assert {key: actual.get(key) for key in expected} == expected


def error_fields(response: Any) -> list[str]:
    """The `errors[].field` of a 422 problem."""
    return [e["field"] for e in assert_problem(response, 422)["errors"]]


def rules_of(result: dict[str, Any]) -> set[tuple[str, str]]:
    """(rule code, outcome) of every finding of a screening."""
    return {(f["rule"]["code"], f["outcome"]) for f in result["findings"]}


def finding(result: dict[str, Any], rule_code: str) -> dict[str, Any]:
    """The one finding of a screening under `rule_code`."""
    found = [f for f in result["findings"] if f["rule"]["code"] == rule_code]
    assert len(found) == 1, (rule_code, result["findings"])
    return found[0]


_zone_ids = itertools.count(1)
_ZONE_LAYER_PROPS: dict[str, dict[str, Any]] = {
    "zones/built_up_areas": {"name": "Old town", "area_type": "town"},
    "zones/manual": {"name": "Substation yard", "zone_type": "substation", "authority": "County power bureau",
                     "reason": "110 kV substation perimeter", "valid_from": "2020-01-01"},
}


@dataclass
class Desk:
    """A dispatcher at the web console: maps assets and zones, and screens requests."""

    client: TestClient
    headers: dict[str, str]

    @staticmethod
    def url(layer: str) -> str:
        if layer.startswith("zones/"):
            return f"/api/v1/{layer}"
        return "/api/v1/customers" if layer == "customers" else f"/api/v1/network/{layer}"

    def create(self, layer: str, geometry: dict[str, Any], **props: Any) -> dict[str, Any]:
        """POST a feature of `layer` (network layer, customers, zones/built_up_areas or zones/manual)."""
        if layer in _ZONE_LAYER_PROPS:
            body = {"type": "Feature", "geometry": geometry,
                    "properties": {"external_id": f"{layer}-{next(_zone_ids)}", **_ZONE_LAYER_PROPS[layer], **props}}
        else:
            body = feature(layer, geometry=geometry, **props)
        response = self.client.post(self.url(layer), json=body, headers=self.headers)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def line(self, geometry: dict[str, Any], **props: Any) -> dict[str, Any]:
        """An overhead 10 kV line unless `props` say otherwise."""
        return self.create("lines", geometry, **props)

    def patch(self, layer: str, current: dict[str, Any], *, geometry: dict[str, Any] | None = None,
              version: int | None = None, **props: Any) -> Any:
        """PATCH with If-Match of `current` (or `version`); returns the raw response."""
        body: dict[str, Any] = {"type": "Feature", "properties": props}
        if geometry is not None:
            body["geometry"] = geometry
        if_match = f'"{version if version is not None else current["properties"]["version"]}"'
        return self.client.patch(f"{self.url(layer)}/{current['id']}", json=body,
                                 headers={**self.headers, "If-Match": if_match})

    def delete(self, layer: str, current: dict[str, Any]) -> Any:
        return self.client.delete(f"{self.url(layer)}/{current['id']}",
                                  headers={**self.headers, "If-Match": f'"{current["properties"]["version"]}"'})

    def screen_response(self, geometry: dict[str, Any], activity: str, parameters: dict[str, Any] | None = None,
                        **extra: Any) -> Any:
        body = {"geometry": geometry, "activity": activity, "parameters": parameters or {}, **extra}
        return self.client.post(SCREENINGS, json=body, headers=self.headers)

    def screen(self, geometry: dict[str, Any], activity: str, parameters: dict[str, Any] | None = None,
               **extra: Any) -> dict[str, Any]:
        """A screening that must be accepted; returns its result."""
        response = self.screen_response(geometry, activity, parameters, **extra)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def zones(self, **params: Any) -> list[dict[str, Any]]:
        response = self.client.get(ZONES, params=params, headers=self.headers)
        assert response.status_code == 200, response.text
        return list(response.json()["features"])

    def line_zones(self, line: dict[str, Any]) -> list[dict[str, Any]]:
        """The derived zone parts of one line, general before built-up."""
        return sorted(self.zones(line_id=line["id"]), key=lambda z: z["properties"]["setting"] != "general")

    def in_any_zone(self, at: LonLat) -> bool:
        return any(contains(zone, at) for zone in self.zones())


@pytest.fixture
def desk(client: TestClient, auth: Auth) -> Desk:
    return Desk(client, auth(Role.dispatcher))
