"""The line a route is drawn with: along the streets it drives, or straight when travel was estimated."""

from __future__ import annotations

from sqlalchemy.orm import Session

from routing.travel import route_geometry
from tests.routing.road_grid import PRIMARY_ROW, SIZE, node_point


def test_a_route_on_the_roads_follows_the_streets_of_its_fastest_path(grid: Session) -> None:
    start, end = node_point(0, 0), node_point(SIZE - 1, PRIMARY_ROW)

    line = route_geometry(grid, points=[start, end], mode="car", source="roads")

    up_column_0 = [node_point(0, r) for r in range(PRIMARY_ROW + 1)]
    along_main_road = [node_point(c, PRIMARY_ROW) for c in range(1, SIZE)]
    assert line["type"] == "LineString"
    assert line["coordinates"] == [[p.lon, p.lat] for p in up_column_0 + along_main_road]


def test_an_estimated_route_is_drawn_straight_from_stop_to_stop(db: Session) -> None:
    points = [node_point(0, 0), node_point(5, 5), node_point(2, 1)]

    line = route_geometry(db, points=points, mode="car", source="estimate")

    assert line == {"type": "LineString", "coordinates": [[p.lon, p.lat] for p in points]}
