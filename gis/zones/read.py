"""Reading zones for the map: derived and manual zones in one GeoJSON collection, paged.

The database writes each Feature's JSON (as for the network layers); paging is keyset on
(source, id) so a client walking the pages never sees a zone twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import text
from sqlalchemy.orm import Session

from core.bounds import DbInt
from gis.geo.crs import STORAGE_OUTPUT, OutputCrs
from gis.layers.spec import BBoxFilter, KeyedFeatures, PageQuery

ZoneSource = Literal["derived", "manual"]

# The properties of each source's features, as `_ZONES` writes them (the catalogue publishes them).
DERIVED_ZONE_PROPERTIES = ("source", "line_id", "line_external_id", "construction", "nominal_kv", "setting",
                           "rule_set", "rule_code", "legal_source", "conductor_offset_m", "wind_swing_m", "width_m",
                           "half_width_m")
MANUAL_ZONE_PROPERTIES = ("source", "manual_zone_id", "external_id", "name", "zone_type", "authority", "reason",
                          "valid_from", "valid_to", "version")
ZONE_PROPERTIES = tuple(dict.fromkeys(DERIVED_ZONE_PROPERTIES + MANUAL_ZONE_PROPERTIES))

_ZONES = text("""
SELECT rank, id, feature FROM (
    SELECT 0 AS rank, z.id, json_build_object(
        'type', 'Feature', 'id', 'derived-' || z.id,
        'geometry', ST_AsGeoJSON(CASE WHEN :lat_first THEN ST_FlipCoordinates(ST_Transform(z.geom, :srid))
                                     ELSE ST_Transform(z.geom, :srid) END, 8)::json,
        'properties', json_build_object(
            'source', 'derived', 'line_id', z.line_id, 'line_external_id', l.external_id,
            'construction', l.construction, 'nominal_kv', z.nominal_kv, 'setting', z.setting,
            'rule_set', r.code || ' ' || r.version, 'rule_code', z.rule_code,
            'legal_source', (SELECT rule->>'source' FROM jsonb_array_elements(r.definition->'rules') rule
                              WHERE rule->>'code' = z.rule_code),
            'conductor_offset_m', z.conductor_offset_m, 'wind_swing_m', z.wind_swing_m, 'width_m', z.width_m,
            'half_width_m', z.half_width_m))::text AS feature
      FROM line_zones z JOIN lines l ON l.id = z.line_id JOIN rule_sets r ON r.id = z.rule_set_id
     WHERE :want_derived AND (CAST(:line_id AS bigint) IS NULL OR z.line_id = :line_id)
       AND (NOT :has_bbox OR z.geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326))
    UNION ALL
    SELECT 1, m.id, json_build_object(
        'type', 'Feature', 'id', 'manual-' || m.id,
        'geometry', ST_AsGeoJSON(CASE WHEN :lat_first THEN ST_FlipCoordinates(ST_Transform(m.geom, :srid))
                                     ELSE ST_Transform(m.geom, :srid) END, 8)::json,
        'properties', json_build_object(
            'source', 'manual', 'manual_zone_id', m.id, 'external_id', m.external_id, 'name', m.name,
            'zone_type', m.zone_type, 'authority', m.authority, 'reason', m.reason,
            'valid_from', m.valid_from, 'valid_to', m.valid_to, 'version', m.version))::text
      FROM manual_zones m
     WHERE :want_manual AND m.deleted_at IS NULL AND CAST(:line_id AS bigint) IS NULL
       AND m.valid_from <= :on_date AND (m.valid_to IS NULL OR m.valid_to >= :on_date)
       AND (NOT :has_bbox OR m.geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326))
) zones
WHERE (rank, id) > (:after_rank, :after_id)
ORDER BY rank, id
LIMIT :limit
""")


@dataclass(frozen=True)
class ZoneQuery:
    bbox: BBoxFilter | None
    source: ZoneSource | None
    line_id: int | None
    on_date: date
    after: tuple[int, ...] | None  # (source rank, id) of the last zone of the previous page
    limit: int
    output: OutputCrs = STORAGE_OUTPUT  # ST_Transform to EPSG:4326 itself changes nothing


def list_zones_json(*, db: Session, query: ZoneQuery) -> KeyedFeatures:
    """[((rank, id), feature JSON text)] of zones in force on `on_date`, in cursor order."""
    box = query.bbox
    after_rank, after_id = query.after or (-1, 0)
    rows = db.execute(_ZONES, {
        "want_derived": query.source in (None, "derived"), "want_manual": query.source in (None, "manual"),
        "line_id": query.line_id, "has_bbox": box is not None,
        "x0": box.min_lon if box else 0, "y0": box.min_lat if box else 0,
        "x1": box.max_lon if box else 0, "y1": box.max_lat if box else 0,
        "on_date": query.on_date, "after_rank": after_rank, "after_id": after_id, "limit": query.limit,
        "srid": query.output.epsg, "lat_first": query.output.lat_first})
    return [((rank, zone_id), feature) for rank, zone_id, feature in rows]


SOURCE_RANKS: dict[str, int] = {"derived": 0, "manual": 1}


class ZoneFilters(BaseModel):
    """The property filters of the zones layer for generic clients (the /zones route's own)."""

    model_config = ConfigDict(extra="forbid")

    source: ZoneSource | None = None
    line_id: DbInt | None = None


def zones_page(*, db: Session, query: PageQuery) -> KeyedFeatures:
    """A page of the zones in force on `query.on_date` for a generic client (OGC API Features)."""
    filters = ZoneFilters.model_validate(query.filters)
    return list_zones_json(db=db, query=ZoneQuery(bbox=query.bbox, source=filters.source, line_id=filters.line_id,
                                                  on_date=query.on_date, after=query.after, limit=query.limit,
                                                  output=query.output))


def zone_key(feature_id: str) -> tuple[int, ...] | None:
    """The cursor key of a zone's feature id ("derived-7" -> (0, 7)); None for an id no zone has."""
    source, _, number = feature_id.partition("-")
    if source not in SOURCE_RANKS or not number.isascii() or not number.isdigit() or len(number) > 18:
        return None
    return SOURCE_RANKS[source], int(number)
