"""Import a utility's own layer from GeoJSON or GeoPackage: every row validated first, then the rows
written (an import job: in committed, resumable chunks), or none with a per-row error report.

Rows are matched by `external_id`: new ones are created, changed ones updated (version bumped),
unchanged ones left alone. Each created or updated row is audited like an edit through the API.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely
from pydantic import ValidationError
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from core.context import Actor
from core.database import unit_of_work
from core.errors import InvalidInput
from core.settings import ApiSettings
from gis.geo.crs import parse_crs
from gis.imports.models import ImportJob
from gis.layers import service as layer_service
from gis.layers.catalogue import managed_layers
from gis.layers.schemas import LayerProps
from gis.layers.spec import LayerSpec

MAX_REPORTED_ERRORS = 1000
# Rows between two progress reports inside a chunk (a report is one small transaction of its own).
PROGRESS_EVERY_ROWS = 200


@dataclass
class SourceFeatures:
    """Features read from a file: GeoJSON-like geometry dicts and properties, plus the file's CRS."""

    epsg: int
    features: list[dict[str, Any]]


@dataclass
class GeoImportReport:
    layer: str
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"total": self.total, "created": self.created, "updated": self.updated, "unchanged": self.unchanged}


def layer_by_name(name: str) -> LayerSpec:
    importable = {layer.name: layer for layer in managed_layers()}
    try:
        return importable[name]
    except KeyError as exc:
        raise InvalidInput(f"Unknown layer {name!r}; importable layers: {', '.join(sorted(importable))}.",
                           errors=[{"field": "layer", "message": "unknown"}]) from exc


def read_source(data: bytes, filename: str, *, crs: str | None = None) -> SourceFeatures:
    """Parse GeoJSON (.geojson/.json) or GeoPackage (.gpkg) bytes."""
    suffix = Path(filename).suffix.lower()
    if suffix in {".geojson", ".json"}:
        return _read_geojson(data, crs)
    if suffix == ".gpkg":
        return _read_gpkg(data, crs)
    raise InvalidInput(f"Unsupported file type {suffix or filename!r}: send .geojson, .json or .gpkg.",
                       errors=[{"field": "file", "message": "unsupported type"}])


def _read_geojson(data: bytes, crs: str | None) -> SourceFeatures:
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"The file is not valid JSON: {exc}.", errors=[{"field": "file", "message": "bad JSON"}]) from exc
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise InvalidInput("A GeoJSON FeatureCollection is required.", errors=[{"field": "file", "message": "not a FeatureCollection"}])
    named = (doc.get("crs") or {}).get("properties", {}).get("name") if isinstance(doc.get("crs"), dict) else None
    return SourceFeatures(epsg=parse_crs(crs or named), features=doc["features"])


def _gpkg_wkb(blob: bytes) -> bytes:
    """Strip the GeoPackage binary header (magic, version, flags, srs id, optional envelope)."""
    if blob[:2] != b"GP":
        raise ValueError("not a GeoPackage geometry")
    flags = blob[3]
    envelope_bytes = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}[(flags >> 1) & 0x07]
    return blob[8 + envelope_bytes:]


def _read_gpkg(data: bytes, crs: str | None) -> SourceFeatures:
    with tempfile.NamedTemporaryFile(suffix=".gpkg") as tmp:
        tmp.write(data)
        tmp.flush()
        try:
            con = sqlite3.connect(f"file:{tmp.name}?mode=ro", uri=True)
            table, column, srs_id = con.execute(
                "SELECT g.table_name, g.column_name, g.srs_id FROM gpkg_geometry_columns g "
                "JOIN gpkg_contents c ON c.table_name = g.table_name WHERE c.data_type = 'features' LIMIT 1"
            ).fetchone()
            org = con.execute("SELECT organization, organization_coordsys_id FROM gpkg_spatial_ref_sys "
                              "WHERE srs_id = ?", (srs_id,)).fetchone()
            cursor = con.execute(f'SELECT * FROM "{table}"')  # table name from the file's own catalogue
            names = [d[0] for d in cursor.description]
            features = []
            for row in cursor:
                record = dict(zip(names, row, strict=True))
                blob = record.pop(column)
                record.pop("fid", None)
                geometry = mapping(shapely.from_wkb(_gpkg_wkb(blob))) if blob else None
                features.append({"type": "Feature", "geometry": geometry, "properties": record})
            con.close()
        except (sqlite3.Error, TypeError, ValueError, KeyError, shapely.errors.GEOSException) as exc:
            raise InvalidInput(f"The GeoPackage could not be read: {exc}.",
                               errors=[{"field": "file", "message": "unreadable GeoPackage"}]) from exc
    epsg = parse_crs(crs) if crs else parse_crs(f"{org[0]}:{org[1]}" if org and org[0] else None)
    return SourceFeatures(epsg=epsg, features=features)


Validated = list[tuple[LayerProps, BaseGeometry]]


def validate_features(*, layer: LayerSpec, source: SourceFeatures, settings: ApiSettings) -> Validated:
    """Every row's properties and geometry, checked before anything is written; raises `InvalidInput`
    with each bad row (up to `MAX_REPORTED_ERRORS`) when any row is bad."""
    errors: list[dict[str, Any]] = []
    validated: Validated = []
    for index, feature in enumerate(source.features):
        props_in = (feature or {}).get("properties") or {}
        ext = props_in.get("external_id")
        try:
            props = layer.props.model_validate(props_in)
            geometry = layer_service.parse_feature_geometry(layer=layer, geojson=(feature or {}).get("geometry"),
                                                            epsg=source.epsg, settings=settings)
            validated.append((props, geometry))
        except ValidationError as exc:
            for err in exc.errors():
                errors.append({"row": index, "external_id": ext,
                               "field": ".".join(str(p) for p in err["loc"]), "message": err["msg"]})
        except InvalidInput as exc:
            errors.append({"row": index, "external_id": ext, "field": "geometry", "message": exc.detail})
    seen: dict[str, int] = {}
    for index, (props, _geom) in enumerate(validated):
        external_id = props.external_id
        if external_id in seen:
            errors.append({"row": index, "external_id": external_id, "field": "external_id",
                           "message": f"duplicate of row {seen[external_id]} in this file"})
        seen[external_id] = index
    if errors:
        raise InvalidInput(f"{len(errors)} problem(s) in {layer.name} file; nothing was imported.",
                           errors=errors[:MAX_REPORTED_ERRORS])
    return validated


def write_features(*, db: Session, actor: Actor, layer: LayerSpec, rows: Validated, settings: ApiSettings,
                   report: GeoImportReport, written: Callable[[int], None] | None = None) -> None:
    """Create, update or leave alone each validated row (matched by `external_id`), counted in `report`;
    each write goes through the layer service, audited like an edit through the API. `written(n)` is
    told every `PROGRESS_EVERY_ROWS` rows, so a long chunk still shows it moves."""
    existing = dict(db.execute(select(layer.model.external_id, layer.model.id)
                               .where(layer.model.external_id.in_([p.external_id for p, _ in rows]))).all())
    for done, (props, geometry) in enumerate(rows, start=1):
        feature_id = existing.get(props.external_id)
        if feature_id is None:
            layer_service.create_feature(db=db, actor=actor, layer=layer, geometry=geometry, properties=props,
                                         settings=settings)
            report.created += 1
        else:
            current = layer_service.get_feature(db=db, layer=layer, feature_id=feature_id)
            changes = {k: v for k, v in props.model_dump().items() if _differs(current.properties.get(k), v)}
            new_geometry = None if shapely.geometry.shape(current.geometry).equals_exact(geometry, 1e-9) else geometry
            if changes or new_geometry is not None:
                layer_service.update_feature(db=db, actor=actor, layer=layer, feature_id=feature_id,
                                             expected_version=current.version, geometry=new_geometry, changes=changes,
                                             settings=settings)
                report.updated += 1
            else:
                report.unchanged += 1
        if written is not None and done % PROGRESS_EVERY_ROWS == 0:
            written(done)


def import_features_in_chunks(*, session_factory: sessionmaker[Session], job_id: int, actor: Actor,
                              layer: LayerSpec, source: SourceFeatures, settings: ApiSettings, chunk_rows: int,
                              finish: Callable[[Session, GeoImportReport], None],
                              progress: Callable[[float, str], None] | None = None) -> GeoImportReport:
    """An import job's rows in chunks of `chunk_rows`, each chunk ONE transaction with its resume point
    (`counts.through_row`), its running counts and its progress on the job; the last chunk commits
    with the job's `succeeded`.

    The whole file is validated first: a file with a bad row writes nothing (`InvalidInput` lists
    each bad row). The file itself is the staged copy: it is stored, immutable, in the imports
    bucket, and reading and validating it again gives the same rows in the same order, so a failed
    job that is run again (a re-send, or the relay after a lost worker) skips the rows its committed
    chunks wrote and continues after them: no row is written twice and the final counts are those
    of one clean run.

    What a trace sees meanwhile: each row is written through the layer service like an edit through
    the API, so a change to connectivity moves the topology revision for that element in its
    chunk's transaction, and traces see the import chunk by chunk as it commits (never half a chunk).
    """
    validated = validate_features(layer=layer, source=source, settings=settings)
    total = len(validated)
    with unit_of_work(session_factory, work=f"Import job {job_id}") as db:
        counts = dict(db.scalar(select(ImportJob.counts).where(ImportJob.id == job_id)) or {})
    through = int(counts.get("through_row", 0))
    report = GeoImportReport(layer=layer.name, total=total, created=int(counts.get("created", 0)),
                             updated=int(counts.get("updated", 0)), unchanged=int(counts.get("unchanged", 0)))
    if through and progress:
        progress(through / total, f"resuming after row {through} of {total} (committed by an earlier run)")
    while True:
        end = min(through + chunk_rows, total)
        work = f"Import job {job_id}, rows {through + 1} to {end} of {total},"
        with unit_of_work(session_factory, work=work) as db:
            def written(done: int, start: int = through) -> None:
                if progress:
                    progress((start + done) / total, f"{start + done} of {total} rows being written "
                                                     f"(committed through row {start})")

            write_features(db=db, actor=actor, layer=layer, rows=validated[through:end], settings=settings,
                           report=report, written=written)
            message = f"{report.created} created, {report.updated} updated, {report.unchanged} unchanged"
            if end == total:
                finish(db, report)
            else:
                db.execute(update(ImportJob).where(ImportJob.id == job_id)
                           .values(counts={**report.counts(), "through_row": end}, progress=end / total,
                                   message=f"{end} of {total} rows written: {message}"))
        through = end
        if through >= total:  # the last chunk committed the outcome; a progress report would overwrite it
            return report
        if progress:
            progress(end / total, f"{end} of {total} rows written")


def _differs(old: Any, new: Any) -> bool:
    if hasattr(old, "value"):
        old = old.value
    if hasattr(new, "value"):
        new = new.value
    return old != new


