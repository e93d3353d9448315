"""A small town's streets for the road-network and travel tests: 6 x 6 blocks of about 100 m.

Every street runs the whole width (or height) of the town, so an import must split it at each
junction. Streets are residential except one primary road (row 3, "Main Road"); column 6 is a
oneway street going north ("North Lane"). Block lengths are computed here with the WGS 84 geodesic
(pyproj), independently of PostGIS."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from pyproj import Geod
from sqlalchemy import text
from sqlalchemy.orm import Session

from routing.problem import Point

WEST, SOUTH = 113.0, 28.0
STEP_LON, STEP_LAT = 0.001, 0.0009
SIZE = 7  # nodes per street
PRIMARY_ROW = 3
ONEWAY_COLUMN = 6
GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class Street:
    way_id: int
    highway: str
    name: str
    oneway: bool
    nodes: tuple[tuple[int, int], ...]  # (column, row) in drawing order


def node_point(column: int, row: int) -> Point:
    return Point(lon=round(WEST + column * STEP_LON, 7), lat=round(SOUTH + row * STEP_LAT, 7))


def node_id(column: int, row: int) -> int:
    return 1 + row * SIZE + column


def _streets() -> tuple[Street, ...]:
    rows = [Street(way_id=100 + row, highway="primary" if row == PRIMARY_ROW else "residential",
                   name="Main Road" if row == PRIMARY_ROW else f"Row {row} Street", oneway=False,
                   nodes=tuple((column, row) for column in range(SIZE)))
            for row in range(SIZE)]
    columns = [Street(way_id=200 + column, highway="residential",
                      name="North Lane" if column == ONEWAY_COLUMN else f"Column {column} Street",
                      oneway=column == ONEWAY_COLUMN, nodes=tuple((column, row) for row in range(SIZE)))
               for column in range(SIZE)]
    return tuple(rows + columns)


STREETS = _streets()
EDGE_COUNT = 2 * SIZE * (SIZE - 1)  # 84 blocks
VERTEX_COUNT = SIZE * SIZE          # 49 junctions and corners


def metres(a: tuple[int, int], b: tuple[int, int]) -> float:
    """The geodesic length of the straight block between two neighbouring nodes."""
    pa, pb = node_point(*a), node_point(*b)
    return float(GEOD.inv(pa.lon, pa.lat, pb.lon, pb.lat)[2])


def path_metres(*nodes: tuple[int, int]) -> float:
    """The length of a walk through neighbouring nodes, block by block."""
    return sum(metres(a, b) for a, b in pairwise(nodes))


def insert_grid(db: Session, *, import_id: int = 1) -> None:
    """The grid written straight into the network tables (one edge per block), as an import would."""
    db.execute(text("INSERT INTO road_imports (id, filename, file_format, sha256, edges, vertices, skipped) "
                    "VALUES (:id, 'grid.osm.pbf', 'osm_pbf', repeat('0', 64), :edges, :vertices, '{}')"),
               {"id": import_id, "edges": EDGE_COUNT, "vertices": VERTEX_COUNT})
    db.execute(text("INSERT INTO road_vertices (id, geom) VALUES (:id, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"),
               [{"id": node_id(c, r), "lon": node_point(c, r).lon, "lat": node_point(c, r).lat}
                for r in range(SIZE) for c in range(SIZE)])
    edges = []
    for street in STREETS:
        for a, b in pairwise(street.nodes):
            pa, pb = node_point(*a), node_point(*b)
            edges.append({"import_id": import_id, "ext": f"w{street.way_id}", "cls": street.highway,
                          "name": street.name, "oneway": street.oneway, "source": node_id(*a),
                          "target": node_id(*b), "wkt": f"LINESTRING({pa.lon} {pa.lat}, {pb.lon} {pb.lat})"})
    db.execute(text("INSERT INTO roads (import_id, external_id, road_class, name, oneway, length_m, source_vertex, "
                    "target_vertex, geom) VALUES (:import_id, :ext, :cls, :name, :oneway, "
                    "ST_Length(ST_GeomFromText(:wkt, 4326)::geography), :source, :target, "
                    "ST_GeomFromText(:wkt, 4326))"), edges)
