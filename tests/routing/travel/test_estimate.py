"""Without a road network, travel is the great-circle distance times the circuity factor (1.3) at
the mode's default speed, and the matrices say they are an estimate."""

from __future__ import annotations

import numpy as np
from sqlalchemy.orm import Session

from routing.problem import Point
from routing.travel import build_matrices, estimate_matrices

# 0.01 degree of longitude on the equator: 6 371 008.8 m x 0.01 x pi / 180 = 1111.951 m great-circle,
# x 1.3 = 1445.536 m; by car at 30 km/h (8.333 m/s) 173.46 s, on foot at 4.5 km/h (1.25 m/s) 1156.43 s.
EQUATOR_A, EQUATOR_B = Point(lon=0.0, lat=0.0), Point(lon=0.01, lat=0.0)


def test_the_estimate_is_the_great_circle_times_the_circuity_at_the_modes_default_speed() -> None:
    travel = estimate_matrices([EQUATOR_A, EQUATOR_B], ["car", "foot"])

    assert travel.source == "estimate"
    assert travel.for_mode("car").distances_m.tolist() == [[0, 1446], [1446, 0]]
    assert travel.for_mode("car").durations_s.tolist() == [[0, 173], [173, 0]]
    assert travel.for_mode("foot").durations_s.tolist() == [[0, 1156], [1156, 0]]
    assert travel.for_mode("car").durations_s.dtype == np.int64


def test_without_a_road_network_the_matrices_are_estimated(db: Session) -> None:
    travel = build_matrices(db, points=[EQUATOR_A, EQUATOR_B], modes=["car"], redis_url=None)

    assert travel.source == "estimate"
    assert travel.for_mode("car").distances_m[0, 1] == 1446
