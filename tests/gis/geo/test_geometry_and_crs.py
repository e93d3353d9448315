"""Coordinates in the CRSs field crews and source systems use are stored in EPSG:4326 exactly where
pyproj puts them; coordinates in the wrong zone are refused; distances are metres on the ellipsoid.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from pyproj import Geod, Transformer
from sqlalchemy import Engine

from core.errors import InvalidInput
from core.permissions import Role
from gis.geo.geometry import GeometryLimits, parse_geometry
from tests.factories import created, feature, point, row_count, url

Auth = Callable[[Role], dict[str, str]]
TOLERANCE_DEG = 1e-7
LIMITS = GeometryLimits(max_vertices=100)
WGS84 = Geod(ellps="WGS84")

# (EPSG code, a WGS84 lon/lat inside its area of use)
CRS_CASES = [
    pytest.param(4490, 117.2272, 31.8206, id="CGCS2000-geographic"),
    pytest.param(3857, 117.2272, 31.8206, id="web-mercator"),
    pytest.param(32650, 117.2272, 31.8206, id="UTM-50N"),
    pytest.param(4547, 114.3055, 30.5928, id="CGCS2000-GK-3deg-CM114E"),
]


def to_crs(epsg: int, lon: float, lat: float) -> tuple[float, float]:
    return Transformer.from_crs(4326, epsg, always_xy=True).transform(lon, lat)


def pyproj_to_wgs84(epsg: int, x: float, y: float) -> tuple[float, float]:
    return Transformer.from_crs(epsg, 4326, always_xy=True).transform(x, y)


def assert_lonlat(actual: list[float] | tuple[float, ...], expected: tuple[float, float]) -> None:
    assert actual[0] == pytest.approx(expected[0], abs=TOLERANCE_DEG)
    assert actual[1] == pytest.approx(expected[1], abs=TOLERANCE_DEG)


@pytest.mark.parametrize(("epsg", "lon", "lat"), CRS_CASES)
def test_parse_geometry_converts_to_wgs84_as_pyproj_does(epsg: int, lon: float, lat: float) -> None:
    x, y = to_crs(epsg, lon, lat)

    geom = parse_geometry(point(x, y), epsg=epsg, limits=LIMITS)

    assert_lonlat((geom.x, geom.y), pyproj_to_wgs84(epsg, x, y))
    assert_lonlat((geom.x, geom.y), (lon, lat))  # and the round trip lands where it started


@pytest.mark.parametrize(("epsg", "lon", "lat"), CRS_CASES)
def test_point_sent_with_crs_is_stored_and_returned_in_wgs84(client: TestClient, auth: Auth,
                                                             epsg: int, lon: float, lat: float) -> None:
    editor = auth(Role.dispatcher)
    x, y = to_crs(epsg, lon, lat)

    body = created(client, editor, "substations", geometry=point(x, y), crs=f"EPSG:{epsg}")

    assert_lonlat(body["geometry"]["coordinates"], pyproj_to_wgs84(epsg, x, y))
    stored = client.get(f"{url('substations')}/{body['id']}", headers=editor).json()
    assert_lonlat(stored["geometry"]["coordinates"], (lon, lat))


def test_line_vertices_sent_in_utm_are_each_reprojected(client: TestClient, auth: Auth) -> None:
    vertices = [(117.20, 31.80), (117.25, 31.83), (117.30, 31.81)]
    projected = [to_crs(32650, lon, lat) for lon, lat in vertices]

    body = created(client, auth(Role.dispatcher), "lines", crs="EPSG:32650",
                   geometry={"type": "LineString", "coordinates": [list(p) for p in projected]})

    for got, expected in zip(body["geometry"]["coordinates"], vertices, strict=True):
        assert_lonlat(got, expected)


# (EPSG code, a WGS84 lon/lat well outside its area of use, projected with the zone's formulas anyway)
OUT_OF_ZONE = [
    pytest.param(4547, 120.5, 31.0, id="GK-CM114E-point-at-120E"),
    pytest.param(32650, 105.0, 31.0, id="UTM-50N-point-at-105E"),
    pytest.param(32650, 117.0, -30.0, id="UTM-50N-point-in-southern-hemisphere"),
]


@pytest.mark.parametrize(("epsg", "lon", "lat"), OUT_OF_ZONE)
def test_coordinates_outside_the_zone_are_refused(epsg: int, lon: float, lat: float) -> None:
    with pytest.raises(InvalidInput, match=f"outside the area where EPSG:{epsg} is defined"):
        parse_geometry(point(*to_crs(epsg, lon, lat)), epsg=epsg, limits=LIMITS)


def test_coordinates_outside_the_zone_get_422_over_the_api_and_write_nothing(
        client: TestClient, auth: Auth, owner_engine: Engine) -> None:
    sent = feature("poles", geometry=point(*to_crs(4547, 120.5, 31.0)))

    response = client.post(url("poles"), json=sent, params={"crs": "EPSG:4547"}, headers=auth(Role.dispatcher))

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "EPSG:4547" in response.json()["detail"]
    assert row_count(owner_engine, "poles") == 0


def test_geographic_coordinates_are_not_mistaken_for_projected_ones() -> None:
    with pytest.raises(InvalidInput, match="outside the area"):
        parse_geometry(point(117.2272, 31.8206), epsg=4547, limits=LIMITS)  # lon/lat sent as if Gauss-Krüger metres


# --- metres, not degrees: a 100 m radius must mean 100 m at every latitude -----------------------

@pytest.mark.parametrize(("lon", "lat"), [
    pytest.param(23.68, 70.66, id="Hammerfest-70N"),
    pytest.param(32.58, 0.0, id="equator"),
    pytest.param(170.50, -45.87, id="Dunedin-45S"),
])
def test_customers_within_100_m_are_found_by_ellipsoidal_distance(client: TestClient, auth: Auth,
                                                                  lon: float, lat: float) -> None:
    editor = auth(Role.dispatcher)
    placed: dict[str, int] = {}
    for azimuth, direction in ((90.0, "east"), (0.0, "north"), (225.0, "south-west")):
        for metres in (99.0, 101.0):
            c_lon, c_lat, _ = WGS84.fwd(lon, lat, azimuth, metres)
            placed[f"{direction}-{metres:.0f}"] = created(client, editor, "customers",
                                                          geometry=point(c_lon, c_lat))["id"]

    response = client.get(url("customers"), params={"near": f"{lon},{lat}", "within_m": 100},
                          headers=editor)

    assert response.status_code == 200, response.text
    found = {f["id"] for f in response.json()["features"]}
    assert found == {placed["east-99"], placed["north-99"], placed["south-west-99"]}


def test_near_without_within_m_is_rejected(client: TestClient, auth: Auth) -> None:
    response = client.get(url("customers"), params={"near": "23.68,70.66"}, headers=auth(Role.dispatcher))

    assert response.status_code == 422
    assert "within_m" in response.json()["detail"]
