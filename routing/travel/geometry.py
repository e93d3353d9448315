"""`route_geometry`: the line a route is drawn with on the dispatcher's map and the crew's device.

Along the roads (`source == "roads"`): each leg is the fastest path (`pgr_dijkstra`, the same costs
as the travel matrix) between the snapped vertices, each edge's geometry turned to the direction of
travel, the legs joined, with the points themselves at the ends of their access legs. Otherwise
straight segments between the points, as the estimate assumed."""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from routing.problem import Point
from routing.travel.graph import edges_sql, load_speed_table
from routing.travel.snap import snap_all

# The path's edges in order, each as its list of [lon, lat] turned to the direction of travel.
LEG_SQL = text("""
SELECT ST_AsGeoJSON(CASE WHEN d.node = r.source_vertex THEN r.geom ELSE ST_Reverse(r.geom) END, 7) AS line
FROM pgr_dijkstra(CAST(:edges AS text), CAST(:source AS bigint), CAST(:target AS bigint), directed => true) d
JOIN roads r ON r.id = d.edge
ORDER BY d.seq
""")
VERTEX_SQL = text("SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat FROM road_vertices WHERE id = :id")

Coordinates = list[list[float]]


def _append(line: Coordinates, coordinates: Coordinates) -> None:
    """Add coordinates, leaving out one that repeats the line's last."""
    for coordinate in coordinates:
        if not line or line[-1] != coordinate:
            line.append(coordinate)


def _road_line(db: Session, *, points: Sequence[Point], mode: str) -> Coordinates:
    snapped = snap_all(db, points=points, modes=[mode])[mode]
    load_speed_table(db, mode=mode)
    line: Coordinates = []
    for leg, (a, b) in enumerate(pairwise(snapped)):
        _append(line, [[points[leg].lon, points[leg].lat]])
        vertex = db.execute(VERTEX_SQL, {"id": a.vertex}).one()
        _append(line, [[float(vertex.lon), float(vertex.lat)]])
        if a.vertex != b.vertex:
            for row in db.execute(LEG_SQL, {"edges": edges_sql("duration"), "source": a.vertex,
                                            "target": b.vertex}):
                _append(line, json.loads(row.line)["coordinates"])
        _append(line, [[points[leg + 1].lon, points[leg + 1].lat]])
    return line


def route_geometry(db: Session, *, points: Sequence[Point], mode: str, source: str) -> dict[str, Any]:
    """A GeoJSON LineString visiting `points` in order (a single point: a line of length zero)."""
    if source == "roads" and len(points) > 1:
        coordinates = _road_line(db, points=points, mode=mode)
    else:
        coordinates = [[p.lon, p.lat] for p in points]
    if len(coordinates) < 2:
        coordinates = coordinates * 2 if coordinates else []
    return {"type": "LineString", "coordinates": coordinates}
