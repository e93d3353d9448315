"""Travel times along the imported roads: a street's length at its class's speed for the mode, oneway
streets driven one way only, points refused when they are off the network."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from core.errors import InvalidInput
from routing.problem import Point
from routing.rules import routing_rules
from routing.travel import OffRoadNetwork, build_matrices, check_points
from tests.routing.road_grid import GEOD, PRIMARY_ROW, SIZE, insert_grid, node_id, node_point, path_metres

LAST = SIZE - 1


def mps(mode: str, road_class: str) -> float:
    return routing_rules().mode(mode).kmh(road_class) / 3.6


def row(r: int) -> list[tuple[int, int]]:
    return [(c, r) for c in range(SIZE)]


def test_a_trip_along_a_street_takes_its_length_at_the_speed_of_its_class(grid: Session) -> None:
    points = [node_point(0, 0), node_point(LAST, 0), node_point(0, PRIMARY_ROW), node_point(LAST, PRIMARY_ROW)]

    travel = build_matrices(grid, points=points, modes=["car"])

    car = travel.for_mode("car")
    assert travel.source == "roads"
    assert travel.snapped_m == pytest.approx((0.0,) * 4, abs=0.01)
    assert car.durations_s[0, 1] == round(path_metres(*row(0)) / mps("car", "residential"))
    assert car.durations_s[1, 0] == car.durations_s[0, 1]
    assert car.durations_s[2, 3] == round(path_metres(*row(PRIMARY_ROW)) / mps("car", "primary"))
    assert car.distances_m[0, 1] == round(path_metres(*row(0)))
    assert np.all(np.diag(car.durations_s) == 0)


def test_the_fastest_path_takes_the_primary_road_even_when_it_is_no_shorter(grid: Session) -> None:
    points = [node_point(0, 0), node_point(LAST, PRIMARY_ROW)]

    car = build_matrices(grid, points=points, modes=["car"]).for_mode("car")

    up_column_0 = [(0, r) for r in range(PRIMARY_ROW + 1)]
    expected = (path_metres(*up_column_0) / mps("car", "residential")
                + path_metres(*row(PRIMARY_ROW)) / mps("car", "primary"))
    assert car.durations_s[0, 1] == round(expected)


def test_a_oneway_street_is_driven_only_in_its_direction(grid: Session) -> None:
    south_end, north_end = node_point(LAST, 0), node_point(LAST, LAST)

    car = build_matrices(grid, points=[south_end, north_end], modes=["car"]).for_mode("car")

    with_the_flow = [(LAST, r) for r in range(SIZE)]
    around_by_column_5 = [(LAST, LAST), *[(LAST - 1, r) for r in range(LAST, -1, -1)], (LAST, 0)]
    assert car.durations_s[0, 1] == round(path_metres(*with_the_flow) / mps("car", "residential"))
    assert car.durations_s[1, 0] == round(path_metres(*around_by_column_5) / mps("car", "residential"))
    assert car.distances_m[1, 0] == round(path_metres(*around_by_column_5))


def test_on_foot_a_oneway_street_is_walked_both_ways(grid: Session) -> None:
    south_end, north_end = node_point(LAST, 0), node_point(LAST, LAST)

    foot = build_matrices(grid, points=[south_end, north_end], modes=["foot"]).for_mode("foot")

    along = [(LAST, r) for r in range(SIZE)]
    assert foot.durations_s[1, 0] == foot.durations_s[0, 1] == round(path_metres(*along) / mps("foot", "residential"))


def test_a_point_beside_a_street_adds_its_access_leg_at_the_streets_speed(grid: Session) -> None:
    corner, far_corner = node_point(0, 0), node_point(LAST, 0)
    # 30 % along the first block of row 0, 20 m north of it: it joins the graph at the corner (0, 0).
    block = path_metres((0, 0), (1, 0))
    beside = Point(lon=corner.lon + 0.3 * (node_point(1, 0).lon - corner.lon), lat=corner.lat + 20 / 110_860)

    travel = build_matrices(grid, points=[beside, far_corner], modes=["car"])

    access_m = travel.snapped_m[0] + 0.3 * block
    assert travel.snapped_m[0] == pytest.approx(20, abs=0.5)
    assert travel.for_mode("car").durations_s[0, 1] == pytest.approx(
        (access_m + path_metres(*row(0))) / mps("car", "residential"), abs=1)
    assert travel.for_mode("car").distances_m[0, 1] == pytest.approx(access_m + path_metres(*row(0)), abs=1)


def test_a_point_600_m_off_the_network_is_refused_naming_it(grid: Session) -> None:
    south_of_town = Point(lon=node_point(3, 0).lon, lat=node_point(3, 0).lat - 600 / 110_860)
    points = [node_point(0, 0), south_of_town, node_point(1, 1)]

    with pytest.raises(OffRoadNetwork) as refused:
        build_matrices(grid, points=points, modes=["car", "foot"])
    with pytest.raises(OffRoadNetwork) as refused_early:
        check_points(grid, points=points, modes=["car"])

    for error in (refused.value, refused_early.value):
        assert error.indexes == [1]
        assert error.distances_m == [pytest.approx(600, abs=2)]
        assert [e["field"] for e in error.errors] == ["points[1]"]
        assert "600 m from the nearest road" in error.errors[0]["message"]


def test_check_points_says_which_source_the_matrices_will_come_from(db: Session) -> None:
    points = [node_point(0, 0), node_point(2, 2)]
    assert check_points(db, points=points, modes=["car"]) == "estimate"
    insert_grid(db)
    assert check_points(db, points=points, modes=["car"]) == "roads"


def test_points_with_no_path_between_them_are_refused_naming_them(grid: Session) -> None:
    # A street 300 m east of the town, joined to nothing.
    east = node_point(LAST, 0).lon + 0.003
    grid.execute(text("INSERT INTO road_vertices (id, geom) VALUES (1001, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)),"
                      " (1002, ST_SetSRID(ST_MakePoint(:lon, :lat2), 4326))"),
                 {"lon": east, "lat": node_point(0, 0).lat, "lat2": node_point(0, 1).lat})
    grid.execute(text("INSERT INTO roads (import_id, external_id, name, road_class, oneway, length_m, source_vertex, "
                      "target_vertex, geom) "
                      "VALUES (1, 'w900', 'Island Street', 'residential', false, 100, 1001, 1002, ST_SetSRID(ST_MakeLine("
                      "ST_MakePoint(:lon, :lat), ST_MakePoint(:lon, :lat2)), 4326))"),
                 {"lon": east, "lat": node_point(0, 0).lat, "lat2": node_point(0, 1).lat})
    island = Point(lon=east, lat=node_point(0, 0).lat)

    with pytest.raises(InvalidInput) as refused:
        build_matrices(grid, points=[node_point(0, 0), island], modes=["car"])

    assert not isinstance(refused.value, OffRoadNetwork)
    assert {e["field"] for e in refused.value.errors} == {"points[0]", "points[1]"}
    assert "no path" in refused.value.detail


def test_a_footway_is_walked_but_not_driven(grid: Session) -> None:
    # A footpath straight across the first block, from corner (0, 0) to corner (1, 1).
    a, b = node_point(0, 0), node_point(1, 1)
    grid.execute(text("INSERT INTO roads (import_id, external_id, name, road_class, oneway, length_m, source_vertex, "
                      "target_vertex, geom) VALUES (1, 'w901', 'Shortcut', 'footway', false, :length, :a, :b, "
                      "ST_SetSRID(ST_MakeLine(ST_MakePoint(:ax, :ay), ST_MakePoint(:bx, :by)), 4326))"),
                 {"length": GEOD.inv(a.lon, a.lat, b.lon, b.lat)[2], "a": node_id(0, 0), "b": node_id(1, 1),
                  "ax": a.lon, "ay": a.lat, "bx": b.lon, "by": b.lat})

    travel = build_matrices(grid, points=[a, b], modes=["car", "foot"])

    diagonal = GEOD.inv(a.lon, a.lat, b.lon, b.lat)[2]
    assert travel.for_mode("foot").durations_s[0, 1] == round(diagonal / (routing_rules().mode("foot").default_kmh
                                                                           / 3.6))
    assert travel.for_mode("car").durations_s[0, 1] == round(path_metres((0, 0), (1, 0), (1, 1))
                                                             / mps("car", "residential"))
