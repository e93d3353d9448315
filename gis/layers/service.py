"""Read and write any managed layer's features (`LayerSpec`, from the catalogue): bbox + attribute
filters + keyset pagination, versioned updates, soft deletes. Every write is audited and announced in the outbox in the caller's
transaction. Keyword-only functions, no HTTP."""

from __future__ import annotations

import json
import operator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache, reduce
from typing import Any

from geoalchemy2.shape import from_shape
from pydantic import BaseModel
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    BigInteger,
    Float,
    Integer,
    Select,
    Text,
    and_,
    bindparam,
    case,
    cast,
    func,
    join,
    literal,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import outbox
from core.audit import service as audit_service
from core.context import Actor
from core.errors import Conflict, NotFound, StaleVersion
from core.settings import ApiSettings
from gis.geo.crs import STORAGE_EPSG, STORAGE_OUTPUT, OutputCrs
from gis.geo.geometry import GeometryLimits, parse_geometry
from gis.layers.spec import POLYGON, AnyLayer, BBoxFilter, Disclosure, LayerSpec, TableLayer
from gis.network.topology import bump_revision

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%f+00:00"


@dataclass(frozen=True)
class NearFilter:
    lon: float
    lat: float
    within_m: float


@dataclass
class FeatureRecord:
    """A row with its geometry already as GeoJSON: what the edge turns into a Feature."""

    id: int
    version: int
    properties: dict[str, Any]
    geometry: dict[str, Any]


def _json_value(value: Any) -> Any:
    """Dates (e.g. a manual zone's validity) as ISO text: records go to JSON responses and to the
    audit log's JSONB, neither of which takes a `date`."""
    return value.isoformat() if isinstance(value, date) else value


def _to_record(layer: LayerSpec, row: Any, geojson: str) -> FeatureRecord:
    props = {name: _json_value(getattr(row, name)) for name in layer.output_fields}
    props["version"] = row.version
    props["updated_at"] = row.updated_at.astimezone(UTC).strftime(TIMESTAMP_FORMAT) if row.updated_at else None
    return FeatureRecord(id=row.id, version=row.version, properties=props, geometry=json.loads(geojson))


def _snapshot(record: FeatureRecord) -> dict[str, Any]:
    """What the audit log keeps of a feature: the properties the API shows, and its geometry (bounded
    by the audit service: a large geometry is kept as its digest)."""
    return {**record.properties, "geometry": record.geometry}


def geometry_limits(*, layer: LayerSpec, settings: ApiSettings) -> GeometryLimits:
    """What one feature of `layer` may be: every layer has the vertex limit, polygon layers (manual
    zones, built-up areas) the area limit too."""
    polygons = bool(layer.geometry_types & POLYGON)
    return GeometryLimits(max_vertices=settings.max_geometry_vertices,
                          max_area_m2=settings.max_zone_area_m2 if polygons else None)


def parse_feature_geometry(*, layer: LayerSpec, geojson: dict[str, Any] | None, epsg: int,
                           settings: ApiSettings) -> BaseGeometry:
    """The write validation of every layer (API and imports): the client's GeoJSON in `epsg` as a
    checked EPSG:4326 geometry of a type the layer stores, within the layer's limits."""
    return parse_geometry(geojson, epsg=epsg, allowed_types=layer.geometry_types,
                          limits=geometry_limits(layer=layer, settings=settings))


@dataclass(frozen=True)
class _ListShape:
    """What a list statement's SQL depends on; the values (filter values, box, centre, cursor,
    limit) travel as bound parameters (`_list_params`), so one statement serves every request of
    a shape and SQLAlchemy neither rebuilds nor re-keys it."""

    filters: tuple[str, ...]
    bbox: bool
    near: bool
    after: bool


def _list_shape(filters: dict[str, Any], bbox: BBoxFilter | None, near: NearFilter | None,
                after_id: int | None) -> _ListShape:
    return _ListShape(filters=tuple(sorted(filters)), bbox=bbox is not None, near=near is not None,
                      after=after_id is not None)


def _list_params(filters: dict[str, Any], bbox: BBoxFilter | None, near: NearFilter | None,
                 after_id: int | None, limit: int) -> dict[str, Any]:
    params: dict[str, Any] = {f"filter_{name}": value for name, value in filters.items()}
    if bbox is not None:
        params.update(min_lon=bbox.min_lon, min_lat=bbox.min_lat, max_lon=bbox.max_lon, max_lat=bbox.max_lat)
    if near is not None:
        params.update(near_lon=near.lon, near_lat=near.lat, within_m=near.within_m)
    if after_id is not None:
        params["after_id"] = after_id
    params["limit"] = limit
    return params


def _matching(*, layer: TableLayer, columns: list[Any], shape: _ListShape) -> Select[Any]:
    """The live rows a list's filters, box and centre select (soft-deleted rows of a managed layer
    are gone; a read-only table's rows are all live)."""
    model: Any = layer.model  # a managed record or a read-only table: both have id, version, updated_at
    geom = layer.geometry
    stmt = select(*columns)
    if isinstance(layer, LayerSpec):
        stmt = stmt.where(model.deleted_at.is_(None))
    for name in shape.filters:
        stmt = stmt.where(getattr(model, name) == bindparam(f"filter_{name}"))
    if shape.bbox:
        corners = [bindparam(name, type_=Float) for name in ("min_lon", "min_lat", "max_lon", "max_lat")]
        stmt = stmt.where(func.ST_Intersects(geom, func.ST_MakeEnvelope(*corners, 4326)))
    if shape.near:
        centre = func.ST_SetSRID(func.ST_MakePoint(bindparam("near_lon", type_=Float),
                                                   bindparam("near_lat", type_=Float)), 4326)
        # geography: the radius is in metres on the ellipsoid, correct at any latitude.
        stmt = stmt.where(func.ST_DWithin(func.Geography(geom), func.Geography(centre),
                                          bindparam("within_m", type_=Float)))
    return stmt


def _list_statement(*, layer: TableLayer, columns: list[Any], shape: _ListShape) -> Select[Any]:
    """Features in id order after `after_id`; rows inserted meanwhile appear on later pages, never
    shift earlier ones, so a client paging through never sees a duplicate or misses a row."""
    model: Any = layer.model  # a managed record or a read-only table: both have id, version, updated_at
    stmt = _matching(layer=layer, columns=columns, shape=shape)
    if shape.after:
        stmt = stmt.where(model.id > bindparam("after_id", type_=BigInteger))
    return stmt.order_by(model.id).limit(bindparam("limit", type_=Integer))


@dataclass(frozen=True)
class FeaturePage:
    """A page of features written by the database: their ids in order, their GeoJSON Feature texts
    already joined with commas (the inside of a FeatureCollection's `features` array), and the
    keys of the rows a `Disclosure` asked about, in id order."""

    ids: list[int]
    features: str
    disclosed: list[str]


# Shapes of JSON list pages kept built: layers x masks x disclosure x filter combinations x
# (bbox, near, cursor) is a few hundred at most; beyond that the oldest is rebuilt when needed.
JSON_PAGE_STATEMENTS_CACHED = 512


def _output_geometry(layer: TableLayer, output: OutputCrs) -> Any:
    """The stored geometry as the reader asked for it: transformed out of EPSG:4326 in the database
    (so the page is still written there in one go), latitude first where the CRS says so."""
    geom: Any = layer.geometry
    if output.epsg != STORAGE_EPSG:
        geom = func.ST_Transform(geom, output.epsg)
    return func.ST_FlipCoordinates(geom) if output.lat_first else geom


@lru_cache(maxsize=JSON_PAGE_STATEMENTS_CACHED)
def _json_page_statement(layer: TableLayer, masks: tuple[tuple[str, str], ...], disclosure: Disclosure | None,
                         shape: _ListShape, output: OutputCrs = STORAGE_OUTPUT) -> Select[Any]:
    """The one-row statement of `list_features_json` for a shape of request, built once: building
    and cache-keying this statement of some sixty elements cost about 2 ms of Python per request."""
    model: Any = layer.model  # a managed record or a read-only table: both have id, version, updated_at
    masked = dict(masks)
    values: list[Any] = []
    for name in (*layer.output_fields, "version"):
        column = getattr(model, name)
        values.append((getattr(func, masked[name])(column) if name in masked else column).label(name))
    # Same text as the Python path (`TIMESTAMP_FORMAT`), so both list paths agree to the character.
    values.append(func.to_char(func.timezone("UTC", model.updated_at),
                               literal('YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')).label("updated_at"))
    # The properties as one row turned into JSON: row_to_json of a lateral row is cheaper per
    # feature than json_build_object, which looks up the type of each of its thirty arguments anew.
    properties = select(*values).correlate(model).lateral("properties")
    # The Feature's own braces are joined as text around the parts only PostgreSQL can write (the
    # geometry, the escaped properties): wrapping them in json_build_object made the database parse
    # every geometry's GeoJSON again as `json`, about a sixth of the query.
    geometry = func.coalesce(cast(func.ST_AsGeoJSON(_output_geometry(layer, output), 9), Text), literal("null"))
    parts = [literal('{"type":"Feature","id":'), cast(model.id, Text), literal(',"geometry":'), geometry,
             literal(',"properties":'), cast(func.row_to_json(properties.table_valued()), Text), literal("}")]
    feature = reduce(operator.add, parts)
    columns = [model.id.label("id"), feature.label("feature")]
    if disclosure is not None:
        shown = getattr(model, disclosure.field)
        columns.append(case((and_(shown.is_not(None), shown != ""), getattr(model, disclosure.key)))
                       .label("disclosed"))
    page = (_list_statement(layer=layer, columns=columns, shape=shape)
            .select_from(join(model, properties, true())).subquery("page"))
    aggregates: list[Any] = [
        func.coalesce(func.array_agg(aggregate_order_by(page.c.id, page.c.id)), literal([], ARRAY(BigInteger))),
        func.coalesce(func.string_agg(page.c.feature, aggregate_order_by(literal(","), page.c.id)), literal("")),
    ]
    if disclosure is not None:
        aggregates.append(func.array_agg(aggregate_order_by(page.c.disclosed, page.c.id))
                          .filter(page.c.disclosed.is_not(None)))
    return select(*aggregates)


def list_features_json(*, db: Session, layer: TableLayer, filters: dict[str, Any], bbox: BBoxFilter | None,
                       near: NearFilter | None = None, after_id: int | None, limit: int,
                       masks: dict[str, str] | None = None, disclosure: Disclosure | None = None,
                       output: OutputCrs = STORAGE_OUTPUT) -> FeaturePage:
    """A page of features as ready GeoJSON built by PostgreSQL, in one row.

    Map views ask for up to a thousand features at a time; letting the database write the JSON
    and join the page avoids building a Python object, a driver row and a string per feature and
    keeps large pages fast. `masks` names, per field, the database function that hides it from
    this reader (e.g. phone numbers); `disclosure` names a field shown in full whose rows are to be
    logged (never a masked one). `output` is the CRS the geometries are written in.
    """
    stmt = _json_page_statement(layer, tuple(sorted((masks or {}).items())), disclosure,
                                _list_shape(filters, bbox, near, after_id), output)
    ids, features, *disclosed = db.execute(stmt, _list_params(filters, bbox, near, after_id, limit)).one()
    return FeaturePage(ids=list(ids), features=features, disclosed=list(disclosed[0] or []) if disclosed else [])


def list_features_for(*, db: Session, actor: Actor, layer: TableLayer, filters: dict[str, Any],
                      bbox: BBoxFilter | None, near: NearFilter | None = None, after_id: int | None,
                      limit: int, output: OutputCrs = STORAGE_OUTPUT) -> FeaturePage:
    """A page as `actor` may see it: the layer's privacy rule (if any) masks in SQL what this reader
    may not see, and what it shows in full is logged in the same transaction."""
    privacy = layer.privacy
    disclosure = privacy.disclosure_for(actor) if privacy else None
    page = list_features_json(db=db, layer=layer, filters=filters, bbox=bbox, near=near, after_id=after_id,
                              limit=limit, masks=privacy.masks_for(actor) if privacy else None,
                              disclosure=disclosure, output=output)
    if privacy is not None and disclosure is not None:
        privacy.log_disclosure(db, actor, page.disclosed)
    return page


def count_features(*, db: Session, layer: TableLayer, filters: dict[str, Any], bbox: BBoxFilter | None,
                   at_most: int) -> int | None:
    """How many features a list's filters and box select, counting no further than `at_most` rows
    (None beyond it): an exact number where it is cheap, never a scan of a whole large table."""
    shape = _list_shape(filters, bbox, None, None)
    capped = _matching(layer=layer, columns=[literal(1)], shape=shape).limit(at_most + 1).subquery("matched")
    params = _list_params(filters, bbox, None, None, at_most)
    params.pop("limit")
    found = int(db.execute(select(func.count()).select_from(capped), params).scalar_one())
    return found if found <= at_most else None


def previous_start(*, db: Session, layer: TableLayer, filters: dict[str, Any], bbox: BBoxFilter | None,
                   before_id: int, limit: int) -> tuple[bool, int | None]:
    """Where the page before the one starting at `before_id` starts, for a `prev` link: (False, None)
    when no feature comes before, (True, None) when that page is the first, else (True, the id to
    page after). Reads at most `limit + 1` ids of the index backwards, with the page's own filters."""
    shape = _list_shape(filters, bbox, None, None)
    model: Any = layer.model
    stmt = (_matching(layer=layer, columns=[model.id], shape=shape)
            .where(model.id < bindparam("before_id", type_=BigInteger))
            .order_by(model.id.desc()).limit(bindparam("limit", type_=Integer)))
    params = {**_list_params(filters, bbox, None, None, limit + 1), "before_id": before_id}
    ids = list(db.scalars(stmt, params))
    if not ids:
        return False, None
    return True, (ids[limit] if len(ids) > limit else None)


def estimated_extent(*, db: Session, layer: AnyLayer) -> tuple[float, float, float, float] | None:
    """The layer's table's extent (EPSG:4326) from the planner's statistics: free to read, good for a
    client's "zoom to layer", possibly a little stale; None until the table has been analysed."""
    model: Any = layer.model
    box = func.ST_EstimatedExtent(bindparam("table_name", type_=Text), bindparam("column_name", type_=Text))
    row = db.execute(select(func.ST_XMin(box), func.ST_YMin(box), func.ST_XMax(box), func.ST_YMax(box)),
                     {"table_name": model.__tablename__, "column_name": layer.geometry_column}).one()
    return None if row[0] is None else (float(row[0]), float(row[1]), float(row[2]), float(row[3]))


def _fetch(db: Session, layer: LayerSpec, feature_id: int, *, for_update: bool = False) -> tuple[Any, FeatureRecord]:
    """The live row and its record in one query; re-read from the database, never from the session
    cache, so values the database computes (length_m, updated_at) are current after a flush."""
    model = layer.model
    stmt = (select(model, func.ST_AsGeoJSON(layer.geometry, 9))
            .where(model.id == feature_id)
            .execution_options(populate_existing=True))
    if for_update:
        stmt = stmt.with_for_update(of=model)
    found = db.execute(stmt).first()
    if found is None or found[0].deleted_at is not None:
        raise NotFound(f"No {layer.entity_type} with id {feature_id}.")
    row, geojson = found
    return row, _to_record(layer, row, geojson)


def get_feature(*, db: Session, layer: LayerSpec, feature_id: int) -> FeatureRecord:
    return _fetch(db, layer, feature_id)[1]


def _announce(*, db: Session, actor: Actor, layer: LayerSpec, row_id: int, verb: str, event: str,
              before: dict[str, Any] | None, after: dict[str, Any], payload: dict[str, Any],
              settings: ApiSettings, reason: str | None = None) -> None:
    """Every change goes to the audit log and the outbox, in the caller's transaction."""
    audit_service.record(db=db, actor=actor, action=f"{layer.entity_type}.{verb}", entity_type=layer.entity_type,
                         entity_id=row_id, before=before, after=after, reason=reason,
                         geometry_verbatim_vertices=settings.audit_geometry_verbatim_vertices)
    outbox.emit(db=db, event_type=f"{layer.entity_type}.{event}", entity_type=layer.entity_type,
                entity_id=row_id, payload=payload)


def _ensure_external_id_free(db: Session, layer: LayerSpec, external_id: str) -> None:
    if db.scalar(select(layer.model.id).where(layer.model.external_id == external_id)):
        raise Conflict(f"A {layer.entity_type} with external_id {external_id!r} already exists.")


def _flush_or_conflict(db: Session, layer: LayerSpec) -> None:
    """Unique keys and references the pre-checks cannot see (e.g. account numbers) become 409."""
    try:
        db.flush()
    except IntegrityError as exc:
        raise Conflict(f"The {layer.entity_type} conflicts with an existing record (duplicate key or unknown "
                       f"reference); nothing was changed.") from exc


def _stored_geometry(layer: LayerSpec, geometry: BaseGeometry) -> Any:
    if layer.store_as_multi and isinstance(geometry, Polygon):
        geometry = MultiPolygon([geometry])
    return from_shape(geometry, srid=4326)


def _after_write(db: Session, layer: LayerSpec, row_id: int, before: FeatureRecord | None) -> None:
    """Called once the write is flushed, so the hook's SQL sees the new row."""
    if layer.after_write is not None:
        layer.after_write(db, row_id, before.geometry if before is not None else None)


def create_feature(*, db: Session, actor: Actor, layer: LayerSpec, geometry: BaseGeometry,
                   properties: BaseModel, settings: ApiSettings) -> FeatureRecord:
    values = properties.model_dump()
    _ensure_external_id_free(db, layer, values["external_id"])
    # A mapped class takes its columns as keywords; the ManagedRecord mixin type does not say so.
    row = layer.model(**values, **{layer.geometry_column: _stored_geometry(layer, geometry)})
    db.add(row)
    _flush_or_conflict(db, layer)
    _after_write(db, layer, row.id, None)
    record = _fetch(db, layer, row.id)[1]
    _announce(db=db, actor=actor, layer=layer, row_id=row.id, verb="create", event="created",
              before=None, after=_snapshot(record), payload={"version": record.version}, settings=settings)
    return record


def _check_version(layer: LayerSpec, row: Any, expected_version: int) -> None:
    if row.version != expected_version:
        raise StaleVersion(
            f"This {layer.entity_type} was changed by someone else (now version {row.version}, you sent "
            f"{expected_version}). Reload it and apply your change again.",
            current_version=row.version,
        )


def update_feature(*, db: Session, actor: Actor, layer: LayerSpec, feature_id: int, expected_version: int,
                   geometry: BaseGeometry | None, changes: dict[str, Any], settings: ApiSettings) -> FeatureRecord:
    """Apply a partial change if `expected_version` is still current (row locked meanwhile, so of
    two concurrent writers exactly one wins and the other gets `StaleVersion`)."""
    row, before = _fetch(db, layer, feature_id, for_update=True)
    _check_version(layer, row, expected_version)
    if changes.get("external_id", row.external_id) != row.external_id:
        _ensure_external_id_free(db, layer, changes["external_id"])
    for name, value in changes.items():
        setattr(row, name, value)
    if geometry is not None:
        setattr(row, layer.geometry_column, _stored_geometry(layer, geometry))
    row.version = row.version + 1
    _flush_or_conflict(db, layer)
    _after_write(db, layer, row.id, before)
    if any(name in layer.topology_fields for name in changes):
        bump_revision(db, changed=[(layer.entity_type, row.id)])
    after = _fetch(db, layer, feature_id)[1]
    _announce(db=db, actor=actor, layer=layer, row_id=row.id, verb="update", event="updated",
              before=_snapshot(before), after=_snapshot(after),
              payload={"version": after.version, "fields": sorted(changes)}, settings=settings)
    return after


def delete_feature(*, db: Session, actor: Actor, layer: LayerSpec, feature_id: int, expected_version: int,
                   settings: ApiSettings, reason: str | None = None) -> None:
    """Soft delete: the row stays for history and references, hidden from lists and traces."""
    row, before = _fetch(db, layer, feature_id, for_update=True)
    _check_version(layer, row, expected_version)
    row.deleted_at = datetime.now(UTC)
    row.version = row.version + 1
    db.flush()
    # Named, so cached graphs drop just this element's edge (none, for layers that are not edges).
    bump_revision(db, changed=[(layer.entity_type, row.id)])
    _after_write(db, layer, row.id, before)
    _announce(db=db, actor=actor, layer=layer, row_id=row.id, verb="delete", event="deleted",
              before=_snapshot(before), after={"deleted_at": row.deleted_at.isoformat(), "version": row.version},
              payload={"version": row.version}, settings=settings, reason=reason)
