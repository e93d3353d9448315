"""A measured distance is never wrong by the size of the gap: where PostGIS geography says a site touches
a line (0 m) or nearly does, the distance is confirmed exactly.

PostGIS 3.3 geography reports 0 m between the issue's polygon and line, which are 0.25 m apart near the
equator. The lines here record no spread between their conductors, so the zone is measured from the line
itself and `measured_m` is the distance from the site to the line as it is stored.

Geography gets it wrong whenever a site's edge runs parallel to a line less than about 2 m away (at any
latitude), so the cases below are edges parallel to a line and corners pointing at one. Expectations are
computed by hand on the ellipsoid with pyproj only: site corners walked at right angles from the line's
geodesic, or (for the issue's coordinates) the shortest geodesic from each polygon
corner to the line, found by a golden-section search along the line's geodesic.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from tests.gis.screening.conftest import (
    ARCTIC,
    EAST,
    EQUATOR,
    GEOD,
    NORTH,
    SOUTH_45,
    Desk,
    LonLat,
    beside,
    finding,
    moved,
)

ISSUE_POLYGON = [(10.029339260757984, 0.4789320153720644), (10.029285196918424, 0.4788597892651586),
                 (10.029213451780477, 0.47891421554047187), (10.029267515619711, 0.47898644164793613),
                 (10.029339260757984, 0.4789320153720644)]
ISSUE_LINE = [(10.028698051675434, 0.47822942820023734), (10.029779328581025, 0.47967395025800036)]
TOLERANCE_M = 0.002


def polygon(ring: list[LonLat]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}


def point_to_geodesic_m(p: LonLat, a: LonLat, b: LonLat) -> float:
    """Shortest distance from `p` to the geodesic segment a-b: golden-section search on the position
    along the segment (the distance to a point moving along a geodesic is unimodal near its foot)."""
    azimuth, _, length = GEOD.inv(*a, *b)

    def distance_at(s: float) -> float:
        lon, lat, _ = GEOD.fwd(*a, azimuth, s)
        return float(GEOD.inv(*p, lon, lat)[2])

    lo, hi = 0.0, length
    ratio = (math.sqrt(5) - 1) / 2
    while hi - lo > 1e-6:
        m1, m2 = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        if distance_at(m1) < distance_at(m2):
            hi = m2
        else:
            lo = m1
    return distance_at((lo + hi) / 2)


def zone_measured(desk: Desk, line: dict[str, Any], site: dict[str, Any]) -> float:
    """`measured_m` of the zone finding of a site near a 10 kV overhead line recorded with no spread
    between its conductors (so the zone is measured from the line as stored; zone width 5 m)."""
    desk.line(line, construction="overhead", nominal_kv=10.0, conductor_spread_m=0.0)
    result = desk.screen(site, "connection", {"requested_load_kw": 5})
    return float(finding(result, "zone.overhead.general")["measured_m"])


def test_the_issues_polygon_is_a_quarter_metre_from_the_line_not_touching_it(desk: Desk) -> None:
    expected = min(point_to_geodesic_m(corner, *ISSUE_LINE) for corner in ISSUE_POLYGON)
    assert expected == pytest.approx(0.25, abs=0.001)

    measured = zone_measured(desk, {"type": "LineString", "coordinates": [list(p) for p in ISSUE_LINE]},
                                   polygon(ISSUE_POLYGON))

    assert measured == pytest.approx(expected, abs=TOLERANCE_M)


def straight_line(origin: LonLat, bearing: float, half_length_m: float = 100.0) -> dict[str, Any]:
    """One segment along a geodesic through `origin` (the nearest point to a site is mid-segment)."""
    return {"type": "LineString", "coordinates": [list(moved(origin, bearing + 180.0, half_length_m)),
                                                  list(moved(origin, bearing, half_length_m))]}


def site_beside(origin: LonLat, bearing: float, gap_m: float, *, corner_first: bool) -> list[LonLat]:
    """A 6 m x 6 m site `gap_m` to the right of a line of `bearing` through `origin`: either with its
    near edge parallel to the line (both near corners walked at right angles from the line), or
    standing on one corner that points at the line."""
    if corner_first:
        corner = beside(origin, bearing, gap_m)
        away = bearing + 90.0
        return [corner, moved(corner, away - 45.0, 6.0), moved(corner, away, 6.0 * math.sqrt(2)),
                moved(corner, away + 45.0, 6.0), corner]
    near = [beside(moved(origin, bearing + 180.0, 3.0), bearing, gap_m), beside(moved(origin, bearing, 3.0), bearing,
                                                                                gap_m)]
    far = [moved(p, bearing + 90.0, 6.0) for p in near]
    return [near[0], near[1], far[1], far[0], near[0]]


SITES = [pytest.param(EQUATOR, NORTH, id="equator-N"), pytest.param(EQUATOR, 36.87, id="equator-NE"),
         pytest.param(SOUTH_45, EAST, id="45S-E"), pytest.param(ARCTIC, 123.0, id="69.6N-SE")]


@pytest.mark.parametrize("gap_m", [0.25, 2.0])
@pytest.mark.parametrize(("origin", "bearing"), SITES)
def test_a_site_edge_parallel_to_a_line_is_measured_to_the_centimetre(
        desk: Desk, origin: LonLat, bearing: float, gap_m: float) -> None:
    site = polygon(site_beside(origin, bearing, gap_m, corner_first=False))

    measured = zone_measured(desk, straight_line(origin, bearing), site)

    assert measured == pytest.approx(gap_m, abs=TOLERANCE_M)


@pytest.mark.parametrize(("origin", "bearing"), SITES)
def test_a_site_corner_almost_touching_a_line_is_measured_to_the_centimetre(
        desk: Desk, origin: LonLat, bearing: float) -> None:
    site = polygon(site_beside(origin, bearing, 0.25, corner_first=True))

    measured = zone_measured(desk, straight_line(origin, bearing), site)

    assert measured == pytest.approx(0.25, abs=TOLERANCE_M)


def test_a_site_crossing_the_line_still_measures_zero(desk: Desk) -> None:
    site = polygon(site_beside(EQUATOR, NORTH, -0.25, corner_first=False))  # its near edge is over the line

    measured = zone_measured(desk, straight_line(EQUATOR, NORTH), site)

    assert measured == 0.0
