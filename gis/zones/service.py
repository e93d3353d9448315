"""Keeping derived protection zones in step with lines and built-up areas, and reading zones.

Zones are never stale: the layer service calls `refresh_after_line_write` /
`refresh_after_built_up_write` in the transaction that changes a line or a built-up area, so the
zone change commits (or rolls back) with it. `rebuild_all_zones` recomputes every zone, e.g. after
a bulk import or when the default rule set changes.

The split of a line into general and built-up stretches, and the buffering, happen in PostGIS;
the widths come from the rule set (data) and are passed in as bound arrays.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.context import Actor
from gis.network.line_defaults import default_spread_m, default_wind_swing_m, spread_table
from gis.network.models import Construction, Line
from gis.rule_sets import service as rule_set_service
from gis.rule_sets.definition import RuleSetDefinition
from gis.rule_sets.models import RuleSet

_DELETE_ZONES = text("DELETE FROM line_zones WHERE line_id = ANY(CAST(:line_ids AS bigint[]))")
_DELETE_ALL_ZONES = text("DELETE FROM line_zones")

# One row per (line, setting) comes in as arrays; each becomes the stretch of the line the setting
# covers (outside / inside built-up areas, or the whole cable route), buffered on the ellipsoid.
_INSERT_ZONES = text("""
WITH wanted AS (
    SELECT * FROM unnest(CAST(:line_ids AS bigint[]), CAST(:settings AS text[]), CAST(:rule_codes AS text[]),
                         CAST(:offsets AS float8[]), CAST(:swings AS float8[]), CAST(:widths AS float8[]))
        AS w(line_id, setting, rule_code, offset_m, swing_m, width_m)
), parts AS (
    SELECT w.*, l.nominal_kv,
           ST_CollectionExtract(CASE
               WHEN w.setting = 'cable' OR built.geom IS NULL THEN
                   CASE WHEN w.setting = 'built_up' THEN NULL ELSE l.geom END
               WHEN w.setting = 'general' THEN ST_Difference(l.geom, built.geom)
               ELSE ST_Intersection(l.geom, built.geom)
           END, 2) AS part
      FROM wanted w
      JOIN lines l ON l.id = w.line_id AND l.deleted_at IS NULL
      LEFT JOIN LATERAL (
          SELECT ST_Union(a.geom) AS geom FROM built_up_areas a
           WHERE a.deleted_at IS NULL AND a.geom && l.geom AND ST_Intersects(a.geom, l.geom)
      ) built ON w.setting <> 'cable'
), zones AS MATERIALIZED (
    SELECT p.*, ST_Buffer(p.part::geography, p.offset_m + p.swing_m + p.width_m)::geometry AS band
      FROM parts p
     WHERE p.part IS NOT NULL AND NOT ST_IsEmpty(p.part)
)
INSERT INTO line_zones (line_id, rule_set_id, rule_code, setting, nominal_kv, conductor_offset_m, wind_swing_m,
                        width_m, half_width_m, centre, geom)
SELECT line_id, :rule_set_id, rule_code, setting, nominal_kv, offset_m, swing_m, width_m,
       offset_m + swing_m + width_m, part::geography,
       -- A band across the antimeridian comes back from geography with longitudes either side of
       -- ±180, which as a map polygon wraps the whole globe: unwrap it and split it at 180°.
       ST_Multi(ST_CollectionExtract(CASE WHEN ST_XMax(band) - ST_XMin(band) > 180
                                          THEN ST_WrapX(ST_ShiftLongitude(band), 180, -360)
                                          ELSE band END, 3))
  FROM zones
""")

# Overhead lines crossing a built-up area's current outline or its outline before the change.
_LINES_CROSSING_AREA = text("""
SELECT l.id FROM lines l
  JOIN built_up_areas a ON a.id = :area_id AND a.deleted_at IS NULL AND ST_Intersects(l.geom, a.geom)
 WHERE l.deleted_at IS NULL AND l.construction = 'overhead'
UNION
SELECT l.id FROM lines l
 WHERE l.deleted_at IS NULL AND l.construction = 'overhead'
   AND ST_Intersects(l.geom, ST_GeomFromGeoJSON(CAST(:before AS text)))
""")


@dataclass(frozen=True)
class ZoneSpec:
    """The widths one stretch of a line gets under a rule set."""

    setting: str
    rule_code: str
    conductor_offset_m: float
    wind_swing_m: float
    width_m: float


def line_offset_m(*, construction: str, nominal_kv: float, conductor_spread_m: float | None) -> float:
    """Half the spread between outermost conductors: zones are measured from the outermost
    conductor, not the centre line. Cables have no spread. A missing spread takes the default."""
    if construction != Construction.overhead:
        return 0.0
    spread = conductor_spread_m if conductor_spread_m is not None else default_spread_m(nominal_kv)
    return (spread or 0.0) / 2


@lru_cache(maxsize=1)
def default_spread_bands() -> dict[str, list[float]]:
    """The default-spread table (kV above, kV up to, spread) as bound arrays, for SQL that has to
    find a line's outer conductor itself (e.g. ranking hundreds of facilities by distance)."""
    rows = spread_table()
    return {"spread_above_kv": [r[0] for r in rows], "spread_up_to_kv": [r[1] for r in rows],
            "spread_m": [r[2] for r in rows]}


def line_wind_swing_m(*, nominal_kv: float, wind_swing_m: float | None) -> float:
    if wind_swing_m is not None:
        return wind_swing_m
    return default_wind_swing_m(nominal_kv) or 0.0


def zone_specs(*, rules: RuleSetDefinition, construction: str, nominal_kv: float,
               conductor_spread_m: float | None, wind_swing_m: float | None) -> list[ZoneSpec]:
    """Which zone stretches a line has under `rules`; none where the rule set defines no width."""
    offset = line_offset_m(construction=construction, nominal_kv=nominal_kv, conductor_spread_m=conductor_spread_m)
    settings = ("cable",) if construction == Construction.cable else ("general", "built_up")
    specs = []
    for setting in settings:
        rule = rules.zone_rule(setting)
        width = rule.distance_for(nominal_kv) if rule else None
        if rule is None or width is None:
            continue
        swing = line_wind_swing_m(nominal_kv=nominal_kv, wind_swing_m=wind_swing_m) if rule.plus_wind_swing else 0.0
        specs.append(ZoneSpec(setting, rule.code, offset, swing, width))
    return specs


def refresh_line_zones(*, db: Session, line_ids: Sequence[int] | None = None) -> int:
    """Recompute the zones of these lines (all lines when None) under the default rule set.
    Returns the number of zone parts written."""
    rule_set = rule_set_service.get_rule_set(db=db)
    if line_ids is None:
        db.execute(_DELETE_ALL_ZONES)
    else:
        if not line_ids:
            return 0
        db.execute(_DELETE_ZONES, {"line_ids": list(line_ids)})
    stmt = select(Line.id, Line.construction, Line.nominal_kv, Line.conductor_spread_m,
                  Line.wind_swing_m).where(Line.deleted_at.is_(None))
    if line_ids is not None:
        stmt = stmt.where(Line.id.in_(list(line_ids)))
    columns: dict[str, list[Any]] = {k: [] for k in ("line_ids", "settings", "rule_codes", "offsets", "swings",
                                                       "widths")}
    for line_id, construction, kv, spread, swing in db.execute(stmt):
        for spec in zone_specs(rules=rule_set.definition, construction=construction, nominal_kv=kv,
                               conductor_spread_m=spread, wind_swing_m=swing):
            columns["line_ids"].append(line_id)
            columns["settings"].append(spec.setting)
            columns["rule_codes"].append(spec.rule_code)
            columns["offsets"].append(spec.conductor_offset_m)
            columns["swings"].append(spec.wind_swing_m)
            columns["widths"].append(spec.width_m)
    if not columns["line_ids"]:
        return 0
    result = db.execute(_INSERT_ZONES, {**columns, "rule_set_id": rule_set.id})
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def rebuild_all_zones(*, db: Session) -> int:
    return refresh_line_zones(db=db, line_ids=None)


def refresh_after_line_write(db: Session, line_id: int, _before_geometry: dict[str, Any] | None) -> None:
    """Layer-service hook: a line was created, moved, re-rated or deleted."""
    refresh_line_zones(db=db, line_ids=[line_id])


def refresh_after_built_up_write(db: Session, area_id: int, before_geometry: dict[str, Any] | None) -> None:
    """Layer-service hook: a built-up area changed, so overhead lines crossing its old or new
    outline switch rule on some stretch."""
    before = json.dumps(before_geometry) if before_geometry else None
    line_ids = db.scalars(_LINES_CROSSING_AREA, {"area_id": area_id, "before": before})
    refresh_line_zones(db=db, line_ids=sorted(line_ids))


def load_rule_set(*, db: Session, actor: Actor, content: dict[str, Any]) -> tuple[RuleSet, bool]:
    """Load a rule set; when it becomes the default, every derived zone is rebuilt under it in the
    same transaction, so the map and screenings never disagree about which rules are in force."""
    row, created = rule_set_service.load_rule_set(db=db, actor=actor, content=content)
    if created and row.is_default:
        rebuild_all_zones(db=db)
    return row, created
