"""A utility's own layer files: uploaded, stored in S3, imported by a worker, all rows or none."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import struct
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import shapely
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from core.context import Actor
from core.permissions import Role
from core.settings import Settings
from core.storage import ObjectStorage
from gis.imports import geofile
from gis.layers.spec import LayerSpec


def _line(ext: str, lon: float, kv: float = 10.0, **props: float) -> dict:
    return {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[lon, 30.0], [lon + 0.01, 30.0]]},
            "properties": {"external_id": ext, "construction": "overhead", "nominal_kv": kv,
                           "conductor_spread_m": 1.5, **props}}


def _collection(*features: dict) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def _wait_for_job(client: TestClient, job_id: int, headers: dict[str, str], timeout_s: float = 60) -> dict:
    """Poll the status endpoint the way a client does, until the worker reports an outcome."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(f"/api/v1/imports/{job_id}", headers=headers).json()
        if job["status"] in {"succeeded", "failed"}:
            return job
        time.sleep(0.2)
    raise AssertionError(f"import job {job_id} did not finish in {timeout_s} s: {job}")


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table} WHERE deleted_at IS NULL")).scalar_one()


def test_uploaded_geojson_is_stored_and_imported_by_the_worker(
    client: TestClient, auth: Callable[[Role], dict[str, str]], celery_worker: subprocess.Popen[bytes],
    owner_engine: Engine, storage: ObjectStorage,
) -> None:
    headers = auth(Role.dispatcher)
    body = _collection(_line("L-1", 120.0), _line("L-2", 120.1, kv=35, min_ground_clearance_m=9.5))

    queued = client.post("/api/v1/imports/geo", headers=headers, data={"layer": "lines"},
                         files={"file": ("lines.geojson", body, "application/geo+json")})

    assert queued.status_code == 202, queued.text
    job = _wait_for_job(client, queued.json()["id"], headers)
    assert job["status"] == "succeeded", job
    assert job["counts"]["created"] == 2 and job["progress"] == 1.0
    assert job["source_sha256"] == hashlib.sha256(body).hexdigest() and job["source_bytes"] == len(body)
    assert _count(owner_engine, "lines") == 2
    with owner_engine.connect() as conn:
        key = conn.execute(text("SELECT object_key FROM import_jobs")).scalar_one()
        heights = dict(conn.execute(text("SELECT external_id, min_ground_clearance_m FROM lines")).all())
    assert heights == {"L-1": None, "L-2": 9.5}  # the surveyed lowest conductor height, where the file has one
    assert storage.get_bytes(bucket=storage.settings.imports_bucket, key=key) == body


def test_a_file_with_bad_rows_imports_nothing_and_reports_each_row(
    client: TestClient, auth: Callable[[Role], dict[str, str]], celery_worker: subprocess.Popen[bytes],
    owner_engine: Engine,
) -> None:
    headers = auth(Role.dispatcher)
    bad_kv = _line("L-3", 120.2, kv=-5)
    bad_geometry = {**_line("L-4", 120.3), "geometry": {"type": "Point", "coordinates": [120.3, 30.0]}}
    body = _collection(_line("L-ok", 120.0), bad_kv, bad_geometry)

    queued = client.post("/api/v1/imports/geo", headers=headers, data={"layer": "lines"},
                         files={"file": ("lines.geojson", body, "application/geo+json")})
    job = _wait_for_job(client, queued.json()["id"], headers)

    assert job["status"] == "failed"
    assert {(e["row"], e["external_id"]) for e in job["row_errors"]} == {(1, "L-3"), (2, "L-4")}
    assert _count(owner_engine, "lines") == 0


def _write_all(db: Session, actor: Actor, layer: LayerSpec, source: geofile.SourceFeatures,
               settings: Settings) -> geofile.GeoImportReport:
    """A file's rows validated and written in the caller's transaction, as each chunk of a job is."""
    rows = geofile.validate_features(layer=layer, source=source, settings=settings.api)
    report = geofile.GeoImportReport(layer=layer.name, total=len(rows))
    geofile.write_features(db=db, actor=actor, layer=layer, rows=rows, settings=settings.api, report=report)
    return report


def test_reimporting_the_same_file_changes_nothing_and_a_changed_row_is_updated(
    owner_engine: Engine, session_factory, system_actor: Actor, settings: Settings  # type: ignore[no-untyped-def]
) -> None:
    layer = geofile.layer_by_name("lines")
    first = geofile.read_source(_collection(_line("L-1", 120.0), _line("L-2", 120.1)), "a.geojson")
    changed = geofile.read_source(_collection(_line("L-1", 120.0), _line("L-2", 120.1, kv=35)), "a.geojson")

    with session_factory() as db, db.begin():
        _write_all(db, system_actor, layer, first, settings)
    with session_factory() as db, db.begin():
        again = _write_all(db, system_actor, layer, first, settings)
    with session_factory() as db, db.begin():
        update = _write_all(db, system_actor, layer, changed, settings)

    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert (update.created, update.updated, update.unchanged) == (0, 1, 1)
    with owner_engine.connect() as conn:
        versions = dict(conn.execute(text("SELECT external_id, version FROM lines")).all())
    assert versions == {"L-1": 1, "L-2": 2}


def _write_gpkg(path: Path, srs_id: int, rows: list[tuple[str, shapely.Point]]) -> None:
    """A minimal GeoPackage (the tables the spec requires for one point feature table)."""
    con = sqlite3.connect(path)
    con.executescript("""
        CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT, srs_id INTEGER PRIMARY KEY, organization TEXT,
            organization_coordsys_id INTEGER, definition TEXT, description TEXT);
        CREATE TABLE gpkg_contents (table_name TEXT PRIMARY KEY, data_type TEXT, identifier TEXT, srs_id INTEGER);
        CREATE TABLE gpkg_geometry_columns (table_name TEXT, column_name TEXT, geometry_type_name TEXT,
            srs_id INTEGER, z INTEGER, m INTEGER);
        CREATE TABLE poles (fid INTEGER PRIMARY KEY, geom BLOB, external_id TEXT, kind TEXT, nominal_kv REAL);
    """)
    con.execute("INSERT INTO gpkg_spatial_ref_sys VALUES ('x', ?, 'EPSG', ?, '', '')", (srs_id, srs_id))
    con.execute("INSERT INTO gpkg_contents VALUES ('poles', 'features', 'poles', ?)", (srs_id,))
    con.execute("INSERT INTO gpkg_geometry_columns VALUES ('poles', 'geom', 'POINT', ?, 0, 0)", (srs_id,))
    for ext, point in rows:
        blob = b"GP" + bytes([0, 0b00000001]) + struct.pack("<i", srs_id) + shapely.to_wkb(point)
        con.execute("INSERT INTO poles (geom, external_id, kind, nominal_kv) VALUES (?, ?, 'pole', 10)",
                    (blob, ext))
    con.commit()
    con.close()


def test_geopackage_in_a_projected_crs_is_read_and_reprojected(
    tmp_path: Path, owner_engine: Engine, session_factory, system_actor: Actor,  # type: ignore[no-untyped-def]
    settings: Settings,
) -> None:
    path = tmp_path / "poles.gpkg"
    _write_gpkg(path, 32650, [("P-1", shapely.Point(500000, 3320000)), ("P-2", shapely.Point(500100, 3320000))])

    source = geofile.read_source(path.read_bytes(), path.name)
    with session_factory() as db, db.begin():
        report = _write_all(db, system_actor, geofile.layer_by_name("poles"), source, settings)

    assert source.epsg == 32650 and report.created == 2
    with owner_engine.connect() as conn:
        lon, lat = conn.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM poles WHERE external_id = 'P-1'")).one()
    assert abs(lon - 117.0) < 1e-6 and 29.9 < lat < 30.1  # UTM 50N central meridian is 117°E


def test_oversized_upload_gets_413_and_stores_nothing(
    client: TestClient, auth: Callable[[Role], dict[str, str]], owner_engine: Engine, settings  # type: ignore[no-untyped-def]
) -> None:
    from api.app import create_app

    small = settings.model_copy(update={"api": settings.api.model_copy(update={"max_upload_bytes": 1024})})
    with TestClient(create_app(small)) as limited:
        response = limited.post("/api/v1/imports/geo", headers=auth(Role.admin), data={"layer": "lines"},
                                files={"file": ("big.geojson", b" " * 5000, "application/geo+json")})

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    with owner_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM import_jobs")).scalar_one() == 0


def test_unknown_layer_is_rejected_before_anything_is_stored(
    client: TestClient, auth: Callable[[Role], dict[str, str]], owner_engine: Engine
) -> None:
    response = client.post("/api/v1/imports/geo", headers=auth(Role.admin), data={"layer": "rivers"},
                           files={"file": ("x.geojson", _collection(), "application/geo+json")})

    assert response.status_code == 422 and "rivers" in response.json()["detail"]
    with owner_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM import_jobs")).scalar_one() == 0


def test_queue_down_gives_503_and_stores_nothing(
    auth: Callable[[Role], dict[str, str]], owner_engine: Engine, settings  # type: ignore[no-untyped-def]
) -> None:
    from api.app import create_app
    from core.settings import RedisSettings

    broken = settings.model_copy(update={"redis": RedisSettings(url="redis://127.0.0.1:9/0")})
    with TestClient(create_app(broken)) as client:
        response = client.post("/api/v1/imports/geo", headers=auth(Role.admin), data={"layer": "lines"},
                               files={"file": ("l.geojson", _collection(_line("L-9", 120.0)), "application/geo+json")})

    assert response.status_code == 503
    assert response.headers["Retry-After"]
    with owner_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM import_jobs")).scalar_one() == 0
