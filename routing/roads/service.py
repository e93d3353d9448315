"""Replacing the road network, and what the network in use is.

An import validates the whole file first (`InvalidInput` naming each bad feature or way, nothing
written), then in the caller's one transaction deletes the old graph, writes the new vertices and
edges (bound arrays, `unnest`), records a `road_imports` row (its id is the network version travel
caches are keyed by) and audits it. The same file as the network in use (same SHA-256) changes
nothing and says so. Imports run one at a time (a transaction-scoped advisory lock). No outbox
event: the project's other imports (SimBench, layer files) publish none either."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import PurePath
from typing import Any, BinaryIO

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core.audit import service as audit_service
from core.context import Actor
from core.errors import InvalidInput, PayloadTooLarge
from routing.models import Road, RoadImport
from routing.roads.gpkg import read_gpkg
from routing.roads.lines import ParsedRoads
from routing.roads.osm import read_osm
from routing.roads.schemas import RoadImportOut, RoadNetworkOut
from routing.roads.topology import RoadGraph, build_graph

FORMATS = {".pbf": "osm_pbf", ".gpkg": "gpkg"}
IMPORT_LOCK = "routing.roads.import"
CHUNK = 20_000

INSERT_VERTICES = text(
    "INSERT INTO road_vertices (id, geom) SELECT v.id, ST_SetSRID(ST_MakePoint(v.lon, v.lat), 4326) "
    "FROM unnest(CAST(:ids AS bigint[]), CAST(:lons AS float8[]), CAST(:lats AS float8[])) AS v(id, lon, lat)")
INSERT_ROADS = text(
    "INSERT INTO roads (import_id, external_id, road_class, name, oneway, length_m, source_vertex, target_vertex, "
    "geom) SELECT :import_id, r.ext, r.cls, r.name, r.oneway, ST_Length(ST_GeomFromText(r.wkt, 4326)::geography), "
    "r.source, r.target, ST_GeomFromText(r.wkt, 4326) "
    "FROM unnest(CAST(:ext AS text[]), CAST(:cls AS text[]), CAST(:name AS text[]), CAST(:oneway AS boolean[]), "
    "CAST(:source AS bigint[]), CAST(:target AS bigint[]), CAST(:wkt AS text[])) "
    "AS r(ext, cls, name, oneway, source, target, wkt)")


def file_format(filename: str) -> str:
    suffix = PurePath(filename).suffix.lower()
    if suffix not in FORMATS:
        raise InvalidInput(f"Unsupported road file {filename!r}: send an OpenStreetMap extract (.osm.pbf) or a "
                           "GeoPackage (.gpkg).", errors=[{"field": "file", "message": "unsupported type"}])
    return FORMATS[suffix]


def read_limited(source: BinaryIO, *, max_bytes: int) -> bytes:
    """The whole upload, refusing (413) one larger than `max_bytes` without reading past it."""
    data = source.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"The road file is larger than the limit of {max_bytes} bytes.")
    if not data:
        raise InvalidInput("The road file is empty.", errors=[{"field": "file", "message": "empty"}])
    return data


def _report(row: RoadImport, *, unchanged: bool) -> RoadImportOut:
    return RoadImportOut(import_id=row.id, unchanged=unchanged, filename=row.filename, file_format=row.file_format,
                            sha256=row.sha256, edges=row.edges, vertices=row.vertices, skipped=dict(row.skipped))


def _latest(db: Session) -> RoadImport | None:
    return db.scalars(select(RoadImport).order_by(RoadImport.id.desc()).limit(1)).first()


def _parse(data: bytes, *, filename: str, file_format: str) -> ParsedRoads:
    return read_osm(data) if file_format == "osm_pbf" else read_gpkg(data, filename)


def _wkt(coordinates: tuple[tuple[float, float], ...]) -> str:
    return "LINESTRING(" + ", ".join(f"{x!r} {y!r}" for x, y in coordinates) + ")"


def _write_graph(db: Session, *, graph: RoadGraph, import_id: int) -> None:
    ids = list(db.scalars(text("SELECT nextval('road_vertices_id_seq') FROM generate_series(1, :n)"),
                          {"n": len(graph.vertices)}))
    for start in range(0, len(graph.vertices), CHUNK):
        chunk = graph.vertices[start:start + CHUNK]
        db.execute(INSERT_VERTICES, {"ids": ids[start:start + CHUNK], "lons": [v[0] for v in chunk],
                                     "lats": [v[1] for v in chunk]})
    for start in range(0, len(graph.edges), CHUNK):
        edges = graph.edges[start:start + CHUNK]
        db.execute(INSERT_ROADS, {
            "import_id": import_id, "ext": [e.line.external_id for e in edges],
            "cls": [e.line.road_class for e in edges], "name": [e.line.name for e in edges],
            "oneway": [e.line.oneway for e in edges], "source": [ids[e.source] for e in edges],
            "target": [ids[e.target] for e in edges], "wkt": [_wkt(e.coordinates) for e in edges]})


def import_roads(*, db: Session, actor: Actor, data: bytes, filename: str) -> RoadImportOut:
    """Replace the road network with the file's (see the module docstring)."""
    fmt = file_format(filename)
    sha256 = hashlib.sha256(data).hexdigest()
    latest = _latest(db)
    if latest is not None and latest.sha256 == sha256:
        return _report(latest, unchanged=True)
    parsed = _parse(data, filename=filename, file_format=fmt)
    graph = build_graph(parsed.lines)
    db.execute(text("SELECT pg_advisory_xact_lock(hashtext(:lock))"), {"lock": IMPORT_LOCK})
    latest = _latest(db)
    if latest is not None and latest.sha256 == sha256:  # the same file, imported while this one was read
        return _report(latest, unchanged=True)
    db.execute(text("DELETE FROM roads"))
    db.execute(text("DELETE FROM road_vertices"))
    row = RoadImport(filename=PurePath(filename).name[:300], file_format=fmt, sha256=sha256, edges=len(graph.edges),
                     vertices=len(graph.vertices), skipped=dict(Counter(parsed.skipped)), created_by_id=actor.user_id)
    db.add(row)
    db.flush()
    _write_graph(db, graph=graph, import_id=row.id)
    audit_service.record(db=db, actor=actor, action="roads.import", entity_type="road_import", entity_id=row.id,
                         before=None if latest is None else {"version": latest.id, "sha256": latest.sha256},
                         after={"filename": row.filename, "file_format": fmt, "sha256": sha256,
                                "edges": row.edges, "vertices": row.vertices, "skipped": row.skipped})
    return _report(row, unchanged=False)


def network_status(*, db: Session) -> RoadNetworkOut:
    """The network in use: its version (the latest import), counts, when it was imported, its extent."""
    latest = _latest(db)
    if latest is None:
        return RoadNetworkOut(version=None, filename=None, file_format=None, edges=0, vertices=0, skipped={},
                                 imported_at=None, bbox=None)
    extent = select(func.ST_Extent(Road.geom)).scalar_subquery()
    box: Any = db.execute(select(func.ST_XMin(extent), func.ST_YMin(extent), func.ST_XMax(extent),
                                 func.ST_YMax(extent))).one()
    bbox = None if box[0] is None else (float(box[0]), float(box[1]), float(box[2]), float(box[3]))
    return RoadNetworkOut(version=latest.id, filename=latest.filename, file_format=latest.file_format,
                             edges=latest.edges, vertices=latest.vertices, skipped=dict(latest.skipped),
                             imported_at=latest.created_at, bbox=bbox)
