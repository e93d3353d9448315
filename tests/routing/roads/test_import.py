"""Importing the road network: an OpenStreetMap extract or a GeoPackage becomes a graph split at
junctions, replacing the old one in one transaction; bad files are refused naming what is wrong,
and the same file twice changes nothing."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
from pathlib import Path

import osmium
import pytest
import shapely
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from core.context import Actor
from core.errors import InvalidInput, PayloadTooLarge
from routing.roads.schemas import RoadImportOut
from routing.roads.service import import_roads, network_status, read_limited
from routing.rules import routing_rules
from routing.travel import build_matrices
from tests.routing.road_files import grid_gpkg, write_gpkg, write_osm_pbf
from tests.routing.road_grid import (
    EDGE_COUNT,
    ONEWAY_COLUMN,
    SIZE,
    VERTEX_COUNT,
    node_point,
    path_metres,
)

ROOT = Path(__file__).resolve().parents[3]
LAST = SIZE - 1


def _import(session_factory: sessionmaker[Session], actor: Actor, path: Path) -> RoadImportOut:
    with session_factory() as db, db.begin():
        return import_roads(db=db, actor=actor, data=path.read_bytes(), filename=path.name)


def _rows(engine: Engine, sql: str) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(sql))]


def test_an_osm_extract_becomes_a_graph_split_at_every_junction(
        session_factory: sessionmaker[Session], owner_engine: Engine, system_actor: Actor, tmp_path: Path) -> None:
    pbf = write_osm_pbf(tmp_path / "town.osm.pbf")

    report = _import(session_factory, system_actor, pbf)

    assert (report.edges, report.vertices, report.unchanged) == (EDGE_COUNT, VERTEX_COUNT, False)
    assert report.skipped == {"highway=proposed is not a road class": 1}
    assert _rows(owner_engine, "SELECT count(*), count(DISTINCT external_id) FROM roads") == [(EDGE_COUNT, 2 * SIZE)]
    assert _rows(owner_engine, "SELECT count(*) FROM road_vertices") == [(VERTEX_COUNT,)]
    row_0 = _rows(owner_engine, "SELECT sum(length_m) FROM roads WHERE external_id = 'w100'")[0][0]
    assert row_0 == pytest.approx(path_metres(*[(c, 0) for c in range(SIZE)]), abs=0.001)
    # North Lane: six oneway edges, each drawn (and so driven) northwards.
    assert _rows(owner_engine, "SELECT count(*) FROM roads r JOIN road_vertices s ON s.id = r.source_vertex "
                               "JOIN road_vertices t ON t.id = r.target_vertex WHERE r.oneway "
                               "AND r.name = 'North Lane' AND ST_Y(t.geom) > ST_Y(s.geom)") == [(SIZE - 1,)]
    assert _rows(owner_engine, "SELECT sha256, file_format FROM road_imports") == [
        (hashlib.sha256(pbf.read_bytes()).hexdigest(), "osm_pbf")]
    assert _rows(owner_engine, "SELECT action, entity_id FROM audit_log WHERE entity_type = 'road_import'") == [
        ("roads.import", str(report.import_id))]


def test_a_geopackage_in_utm_with_its_own_class_names_imports_the_same_town(
        session_factory: sessionmaker[Session], owner_engine: Engine, system_actor: Actor, tmp_path: Path) -> None:
    report = _import(session_factory, system_actor, grid_gpkg(tmp_path / "town.gpkg"))

    assert (report.edges, report.vertices, report.skipped) == (EDGE_COUNT, VERTEX_COUNT, {})
    assert _rows(owner_engine, "SELECT DISTINCT road_class FROM roads WHERE name = 'Main Road'") == [("primary",)]
    # Travel on it: the oneway street is driven north only, the way back goes round by column 5.
    with session_factory() as db:
        car = build_matrices(db, points=[node_point(ONEWAY_COLUMN, 0), node_point(ONEWAY_COLUMN, LAST)],
                             modes=["car"]).for_mode("car")
    residential = routing_rules().mode("car").kmh("residential") / 3.6
    around = [(LAST, LAST), *[(LAST - 1, r) for r in range(LAST, -1, -1)], (LAST, 0)]
    assert car.durations_s[0, 1] == round(path_metres(*[(LAST, r) for r in range(SIZE)]) / residential)
    assert car.durations_s[1, 0] == round(path_metres(*around) / residential)


def test_the_same_file_again_changes_nothing_and_says_so(
        session_factory: sessionmaker[Session], owner_engine: Engine, system_actor: Actor, tmp_path: Path) -> None:
    pbf = write_osm_pbf(tmp_path / "town.osm.pbf")
    first = _import(session_factory, system_actor, pbf)

    again = _import(session_factory, system_actor, pbf)

    assert again.unchanged and again.import_id == first.import_id
    assert _rows(owner_engine, "SELECT count(*) FROM road_imports") == [(1,)]
    assert _rows(owner_engine, "SELECT count(*) FROM audit_log WHERE entity_type = 'road_import'") == [(1,)]


def test_a_new_file_replaces_the_whole_network_and_is_the_new_version(
        session_factory: sessionmaker[Session], owner_engine: Engine, system_actor: Actor, tmp_path: Path) -> None:
    first = _import(session_factory, system_actor, write_osm_pbf(tmp_path / "town.osm.pbf"))

    second = _import(session_factory, system_actor, grid_gpkg(tmp_path / "town.gpkg"))

    assert second.import_id > first.import_id
    assert _rows(owner_engine, "SELECT DISTINCT import_id FROM roads") == [(second.import_id,)]
    assert _rows(owner_engine, "SELECT count(*) FROM road_vertices") == [(VERTEX_COUNT,)]
    with session_factory() as db:
        status = network_status(db=db)
    assert (status.version, status.edges, status.file_format) == (second.import_id, EDGE_COUNT, "gpkg")
    west, south = node_point(0, 0).lon, node_point(0, 0).lat
    east, north = node_point(LAST, LAST).lon, node_point(LAST, LAST).lat
    assert status.bbox == pytest.approx((west, south, east, north), abs=1e-7)


def test_a_geopackage_with_bad_features_is_refused_naming_each_and_the_network_is_kept(
        session_factory: sessionmaker[Session], owner_engine: Engine, system_actor: Actor, tmp_path: Path) -> None:
    kept = _import(session_factory, system_actor, write_osm_pbf(tmp_path / "town.osm.pbf"))
    a, b = node_point(0, 0), node_point(1, 0)
    bad = write_gpkg(tmp_path / "bad.gpkg", [
        {"geometry": shapely.LineString([(a.lon, a.lat), (b.lon, b.lat)]), "highway": "residential"},
        {"geometry": shapely.Point(a.lon, a.lat), "highway": "residential"},
        {"geometry": shapely.LineString([(a.lon, a.lat), (b.lon, b.lat)]), "highway": "canal"},
        {"geometry": shapely.LineString([(a.lon, a.lat), (b.lon, b.lat)]), "highway": "primary", "oneway": "maybe"},
    ])

    with pytest.raises(InvalidInput) as refused:
        _import(session_factory, system_actor, bad)

    assert refused.value.errors == [
        {"field": "features[1]", "message": "not a line (Point)"},
        {"field": "features[2]", "message": "unknown road class 'canal'"},
        {"field": "features[3]", "message": "oneway 'maybe' is not a direction"},
    ]
    assert _rows(owner_engine, "SELECT DISTINCT import_id, count(*) FROM roads GROUP BY import_id") == [
        (kept.import_id, EDGE_COUNT)]


def test_files_with_no_roads_or_of_another_kind_are_refused(
        session_factory: sessionmaker[Session], system_actor: Actor, tmp_path: Path) -> None:
    no_features = write_gpkg(tmp_path / "empty.gpkg", [])
    only_proposed = tmp_path / "proposed.osm.pbf"
    with osmium.SimpleWriter(str(only_proposed)) as writer:
        writer.add_node(osmium.osm.mutable.Node(id=1, location=(113.0, 28.0), version=1))
        writer.add_node(osmium.osm.mutable.Node(id=2, location=(113.001, 28.0), version=1))
        writer.add_way(osmium.osm.mutable.Way(id=1, nodes=[1, 2], tags={"highway": "proposed"}, version=1))
    shapefile = tmp_path / "roads.shp"
    shapefile.write_bytes(b"not a road file")

    for path, message in ((no_features, "no features"), (only_proposed, "no road"), (shapefile, "Unsupported")):
        with pytest.raises(InvalidInput, match=message):
            _import(session_factory, system_actor, path)
    with pytest.raises(InvalidInput, match="empty"):
        read_limited(io.BytesIO(b""), max_bytes=1024)
    with pytest.raises(PayloadTooLarge):
        read_limited(io.BytesIO(b"x" * 1025), max_bytes=1024)


def test_the_command_line_imports_a_road_file(owner_engine: Engine, tmp_path: Path) -> None:
    pbf = write_osm_pbf(tmp_path / "town.osm.pbf")

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "gridwarden.cli", "roads", "import", str(pbf)], cwd=ROOT,
                              capture_output=True, text=True, timeout=120, check=False)

    first, again = run(), run()

    assert first.returncode == 0, first.stderr
    assert f"{EDGE_COUNT} edges, {VERTEX_COUNT} vertices" in first.stdout
    assert "skipped 1: highway=proposed is not a road class" in first.stdout
    assert again.returncode == 0 and "nothing changed" in again.stdout
    assert _rows(owner_engine, "SELECT count(*) FROM roads WHERE road_class = 'primary'") == [(SIZE - 1,)]


def test_osm_directions_are_read_from_oneway_and_roundabout_tags(
        session_factory: sessionmaker[Session], owner_engine: Engine, system_actor: Actor, tmp_path: Path) -> None:
    pbf = tmp_path / "directions.osm.pbf"
    with osmium.SimpleWriter(str(pbf)) as writer:
        for node, lon in ((1, 113.0), (2, 113.001), (3, 113.002)):
            writer.add_node(osmium.osm.mutable.Node(id=node, location=(lon, 28.0), version=1))
        ways = ((1, [1, 2], {"oneway": "-1"}), (2, [2, 3], {"junction": "roundabout"}),
                (3, [3, 1], {"oneway": "no", "junction": "roundabout"}), (4, [3, 99], {}))
        for way, nodes, tags in ways:
            writer.add_way(osmium.osm.mutable.Way(id=way, nodes=nodes, tags={"highway": "tertiary", **tags},
                                                  version=1))

    report = _import(session_factory, system_actor, pbf)

    assert report.skipped == {"a node is missing from the extract": 1}
    assert _rows(owner_engine, "SELECT r.external_id, r.oneway, ST_X(s.geom), ST_X(t.geom) FROM roads r "
                               "JOIN road_vertices s ON s.id = r.source_vertex "
                               "JOIN road_vertices t ON t.id = r.target_vertex ORDER BY r.external_id") == [
        ("w1", True, 113.001, 113.0),     # oneway=-1: driven against the drawing
        ("w2", True, 113.001, 113.002),   # a roundabout is oneway
        ("w3", False, 113.002, 113.0),    # unless tagged oneway=no
    ]
