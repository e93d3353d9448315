"""The test town (`road_grid`) written as the files a utility would import: an OpenStreetMap
extract (.osm.pbf, with osmium's writer) and a GeoPackage (SQLite laid out as the OGC GeoPackage
1.3 spec says: srs, contents and geometry-column catalogues, geometries as GeoPackage binary)."""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import osmium
import shapely
from pyproj import Transformer

from tests.routing.road_grid import SIZE, STREETS, node_id, node_point

# A way an import leaves out: OSM's `highway=proposed` is no road class of routing.json.
PROPOSED_WAY_ID = 900
UTM_49N = 32649  # the town (113 E) lies in UTM zone 49


def write_osm_pbf(path: Path) -> Path:
    with osmium.SimpleWriter(str(path)) as writer:
        for row in range(SIZE):
            for column in range(SIZE):
                p = node_point(column, row)
                writer.add_node(osmium.osm.mutable.Node(id=node_id(column, row), location=(p.lon, p.lat), version=1))
        for street in STREETS:
            tags = {"highway": street.highway, "name": street.name} | ({"oneway": "yes"} if street.oneway else {})
            writer.add_way(osmium.osm.mutable.Way(id=street.way_id, nodes=[node_id(*n) for n in street.nodes],
                                                  tags=tags, version=1))
        writer.add_way(osmium.osm.mutable.Way(id=PROPOSED_WAY_ID, nodes=[node_id(0, 0), node_id(1, 1)],
                                              tags={"highway": "proposed"}, version=1))
    return path


def _gpkg_geometry(geometry: shapely.Geometry, srs_id: int) -> bytes:
    # magic, version 0, flags: little-endian, no envelope; then the srs id and the WKB.
    return b"GP" + bytes([0, 0b0000_0001]) + struct.pack("<i", srs_id) + shapely.to_wkb(geometry, byte_order=1)


def write_gpkg(path: Path, rows: Sequence[dict[str, Any]], *, srs_id: int = 4326) -> Path:
    """A GeoPackage with one feature table `roads`: each row's `geometry` (shapely, in `srs_id`)
    and its other keys as text columns."""
    columns = sorted({key for row in rows for key in row} - {"geometry"})
    con = sqlite3.connect(path)
    con.executescript("""
        CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT, srs_id INTEGER PRIMARY KEY, organization TEXT,
            organization_coordsys_id INTEGER, definition TEXT, description TEXT);
        CREATE TABLE gpkg_contents (table_name TEXT PRIMARY KEY, data_type TEXT, identifier TEXT, srs_id INTEGER);
        CREATE TABLE gpkg_geometry_columns (table_name TEXT, column_name TEXT, geometry_type_name TEXT,
            srs_id INTEGER, z TINYINT, m TINYINT);
    """)
    con.execute("INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, 'EPSG', ?, 'undefined', '')",
                (f"EPSG:{srs_id}", srs_id, srs_id))
    con.execute("INSERT INTO gpkg_contents VALUES ('roads', 'features', 'roads', ?)", (srs_id,))
    con.execute("INSERT INTO gpkg_geometry_columns VALUES ('roads', 'geom', 'GEOMETRY', ?, 0, 0)", (srs_id,))
    column_sql = "".join(f', "{c}" TEXT' for c in columns)
    con.execute(f"CREATE TABLE roads (fid INTEGER PRIMARY KEY AUTOINCREMENT, geom BLOB{column_sql})")
    for row in rows:
        names = ", ".join(["geom", *(f'"{c}"' for c in columns)])
        marks = ", ".join("?" * (len(columns) + 1))
        con.execute(f"INSERT INTO roads ({names}) VALUES ({marks})",
                    [_gpkg_geometry(row["geometry"], srs_id), *(row.get(c) for c in columns)])
    con.commit()
    con.close()
    return path


def grid_gpkg(path: Path) -> Path:
    """The town in UTM 49N, classes named as Chinese urban road grades (支路 local, 主干路 arterial)."""
    to_utm = Transformer.from_crs(4326, UTM_49N, always_xy=True)
    rows = []
    for street in STREETS:
        line = shapely.LineString([to_utm.transform(node_point(*n).lon, node_point(*n).lat) for n in street.nodes])
        rows.append({"geometry": line, "name": street.name, "oneway": "yes" if street.oneway else "no",
                     "road_class": "主干路" if street.highway == "primary" else "支路",
                     "osm_id": str(street.way_id)})
    return write_gpkg(path, rows, srs_id=UTM_49N)
