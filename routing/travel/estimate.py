"""Travel without a road network: the great-circle distance times the circuity factor, at the
mode's default speed (`routing/data/routing.json`: `estimate.circuity`, `modes.<mode>.default_kmh`).

A plan built on it says so (`TravelMatrices.source == "estimate"`): roads are rarely straight, and
the circuity factor only corrects for that on average."""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence

import numpy as np

from routing.problem import IntMatrix, Point, TravelMatrices, TravelMatrix
from routing.rules import routing_rules

# The IUGG mean radius of the Earth (a physical constant, not a rule): the haversine formula on a
# sphere of this radius is within 0.5 % of the ellipsoid, far below the circuity factor's error.
EARTH_RADIUS_M = 6_371_008.8
SECONDS_PER_HOUR = 3600.0
METRES_PER_KM = 1000.0


def metres_per_second(kmh: float) -> float:
    return kmh * METRES_PER_KM / SECONDS_PER_HOUR


def haversine_m(a: Point, b: Point) -> float:
    """The great-circle distance between two points, in metres."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat, dlon = lat2 - lat1, math.radians(b.lon - a.lon)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, h)))


def _road_metres(points: Sequence[Point]) -> np.ndarray:
    """Estimated road distance between every pair: great-circle x circuity (floats, symmetric)."""
    circuity = routing_rules().circuity
    size = len(points)
    metres = np.zeros((size, size), dtype=np.float64)
    for i in range(size):
        for j in range(i + 1, size):
            metres[i, j] = metres[j, i] = haversine_m(points[i], points[j]) * circuity
    return metres


def _rounded(values: np.ndarray) -> IntMatrix:
    return np.rint(values).astype(np.int64)


def estimate_matrices(points: Sequence[Point], modes: Collection[str]) -> TravelMatrices:
    """Seconds and metres between every pair of `points` for each mode, without roads. Rounded to
    whole metres and seconds only at the end, so that a duration is the distance over the speed."""
    rules = routing_rules()
    metres = _road_metres(points)
    by_mode = {mode: TravelMatrix(durations_s=_rounded(metres / metres_per_second(rules.mode(mode).default_kmh)),
                                  distances_m=_rounded(metres))
               for mode in sorted(set(modes))}
    return TravelMatrices(by_mode=by_mode, source="estimate")
