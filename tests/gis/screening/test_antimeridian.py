"""Areas across the antimeridian: an edge is the short way between its ends, as on the ellipsoid.

A ring from 179.9° to -179.9° is a small polygon straddling ±180, not a band round the globe; its area
is what the ellipsoid says whatever way the ring is wound, so the screening area cap and the zone area
cap hold there too. Such polygons are stored cut at ±180 (RFC 7946 §3.1.9), so that a manual zone
there does not cover every longitude in its latitude band.

Expected areas are computed independently with pyproj on the ring written with continuous longitudes
(179.9 .. 180.1), which the geodesic formulas take as they are.
"""

from __future__ import annotations

from typing import Any

import pytest
from pyproj import Geod
from shapely.geometry import shape

from core.settings import Settings
from gis.geo.geometry import GeometryLimits, geodesic_area_m2, parse_geometry
from tests.gis.screening.conftest import Desk, assert_problem, finding, point

GEOD = Geod(ellps="WGS84")
LIMITS = GeometryLimits(max_vertices=100)


def box_ring(west: float, south: float, east: float, north: float, *, clockwise: bool = False) -> dict[str, Any]:
    """A lon/lat box; `west` > `east` means it straddles ±180."""
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring[::-1] if clockwise else ring]}


def ellipsoid_area_m2(west: float, south: float, east: float, north: float) -> float:
    """Hand-made expectation: the box with continuous longitudes (east + 360 when it straddles ±180)."""
    east = east + 360 if east < west else east
    area, _ = GEOD.polygon_area_perimeter([west, east, east, west], [south, south, north, north])
    return abs(area)


ISSUE_BOX = (179.9, 0.0, -179.9, 0.1)  # the issue's polygon: 246 km², once read as -246 km² and let through
SMALL_BOX = (179.998, -16.001, -179.998, -15.999)  # ~0.095 km² near Fiji, across ±180


@pytest.mark.parametrize("clockwise", [False, True], ids=["anticlockwise", "clockwise"])
def test_area_across_the_antimeridian_is_the_ellipsoid_area_whatever_the_winding(clockwise: bool) -> None:
    geom = parse_geometry(box_ring(*ISSUE_BOX, clockwise=clockwise), limits=LIMITS)

    assert geodesic_area_m2(geom) == pytest.approx(ellipsoid_area_m2(*ISSUE_BOX), rel=1e-6)
    assert ellipsoid_area_m2(*ISSUE_BOX) == pytest.approx(246e6, rel=0.01)


def test_a_polygon_across_the_antimeridian_is_cut_there_into_two_parts() -> None:
    geom = parse_geometry(box_ring(*SMALL_BOX), limits=LIMITS)

    assert geom.geom_type == "MultiPolygon" and len(geom.geoms) == 2
    bounds = sorted(part.bounds for part in geom.geoms)
    assert bounds[0] == pytest.approx((-180.0, -16.001, -179.998, -15.999))
    assert bounds[1] == pytest.approx((179.998, -16.001, 180.0, -15.999))


def test_a_geometry_more_than_half_way_round_the_globe_is_refused() -> None:
    ring = {"type": "Polygon", "coordinates": [[[-10, 0], [100, 0], [-170, 5], [-10, 0]]]}

    with pytest.raises(Exception, match="half the globe"):
        parse_geometry(ring, limits=LIMITS)


@pytest.mark.parametrize("clockwise", [False, True], ids=["anticlockwise", "clockwise"])
def test_the_issues_screening_polygon_is_over_the_2_km2_cap(desk: Desk, clockwise: bool) -> None:
    response = desk.screen_response(box_ring(*ISSUE_BOX, clockwise=clockwise), "building", {"height_m": 10.0})

    body = assert_problem(response, 422)
    assert "246" in body["detail"] and body["errors"][0]["field"] == "geometry"


@pytest.mark.parametrize("clockwise", [False, True], ids=["anticlockwise", "clockwise"])
def test_a_small_site_across_the_antimeridian_is_screened(desk: Desk, clockwise: bool) -> None:
    result = desk.screen(box_ring(*SMALL_BOX, clockwise=clockwise), "building", {"height_m": 10.0})

    stored = shape(result["geometry"])
    assert stored.geom_type == "MultiPolygon"
    assert geodesic_area_m2(stored) == pytest.approx(ellipsoid_area_m2(*SMALL_BOX), rel=1e-6)


def test_a_manual_zone_across_the_antimeridian_covers_only_its_own_place(desk: Desk) -> None:
    zone = desk.create("zones/manual", box_ring(*SMALL_BOX))

    inside_west = desk.screen(point((-179.999, -16.0)), "connection", {"requested_load_kw": 5})
    inside_east = desk.screen(point((179.999, -16.0)), "connection", {"requested_load_kw": 5})
    same_latitude_far_away = desk.screen(point((0.0, -16.0)), "connection", {"requested_load_kw": 5})

    assert len(zone["geometry"]["coordinates"]) == 2
    assert finding(inside_west, "zone.manual")["asset"]["id"] == zone["id"]
    assert finding(inside_east, "zone.manual")["asset"]["id"] == zone["id"]
    assert same_latitude_far_away["verdict"] == "clear"


@pytest.mark.parametrize("box", [
    pytest.param((170.0, 0.0, -170.0, 10.0), id="across-the-antimeridian"),
    pytest.param((100.0, 20.0, 120.0, 40.0), id="ordinary"),
])
def test_a_huge_manual_zone_is_refused(desk: Desk, settings: Settings, box: tuple[float, float, float, float]) -> None:
    assert ellipsoid_area_m2(*box) > settings.api.max_zone_area_m2

    response = desk.client.post("/api/v1/zones/manual", headers=desk.headers, json={
        "type": "Feature", "geometry": box_ring(*box),
        "properties": {"external_id": "MZ-huge", "authority": "Bureau", "reason": "test",
                       "valid_from": "2020-01-01"}})

    body = assert_problem(response, 422)
    assert body["errors"][0]["field"] == "geometry" and "km²" in body["detail"]
