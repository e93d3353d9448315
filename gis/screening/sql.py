"""The screening queries. Every query takes the whole batch of request geometries as bound
arrays (`:idx`, `:wkb`) and returns rows tagged with the request's index, so one screening and a
batch of a thousand run the same few statements.

Candidates are found with indexed geography `ST_DWithin` (GiST on `geom::geography`) and measured
with geography `ST_Distance` on the WGS84 spheroid, which is accurate to millimetres anywhere on
earth. The line drawn for the map joins the two nearest points, computed in an azimuthal
equidistant projection centred on the request so it is right at high latitudes too.
"""

from __future__ import annotations

from sqlalchemy import text

REQUESTS = """
requests AS (
    SELECT r.idx, r.g, r.g::geography AS gg,
           format('+proj=aeqd +lat_0=%s +lon_0=%s +datum=WGS84 +units=m',
                  ST_Y(ST_Centroid(r.g)), ST_X(ST_Centroid(r.g))) AS local_proj
      FROM (SELECT i AS idx, ST_GeomFromWKB(w, 4326) AS g
              FROM unnest(CAST(:idx AS int[]), CAST(:wkb AS bytea[])) AS u(i, w)) r
)"""


def _connector(asset_geom: str) -> str:
    """GeoJSON of the shortest line from the request to `asset_geom` (a geometry in EPSG:4326)."""
    return (f"ST_AsGeoJSON(ST_Transform(ST_ShortestLine(ST_Transform(r.g, r.local_proj), "
            f"ST_Transform({asset_geom}, r.local_proj)), r.local_proj, 4326), 8)")


ZONE_PARTS = text(f"""
WITH {REQUESTS}
SELECT r.idx, z.line_id, l.external_id, l.name, l.construction, z.nominal_kv, z.setting,
       z.conductor_offset_m, z.wind_swing_m, ST_Distance(z.centre, r.gg) AS centre_m,
       {_connector("z.centre::geometry")} AS connector
  FROM requests r
  JOIN line_zones z ON ST_DWithin(z.centre, r.gg, :radius_m)
  JOIN lines l ON l.id = z.line_id AND l.deleted_at IS NULL
""")

LINES = text(f"""
WITH {REQUESTS}
SELECT r.idx, l.id, l.external_id, l.name, l.construction, l.nominal_kv, l.conductor_spread_m,
       ST_Distance(l.geom::geography, r.gg) AS centre_m,
       {_connector("l.geom")} AS connector
  FROM requests r
  JOIN lines l ON ST_DWithin(l.geom::geography, r.gg, :radius_m) AND l.deleted_at IS NULL
""")

POLES = text(f"""
WITH {REQUESTS}
SELECT r.idx, p.id, p.external_id, p.kind, p.nominal_kv,
       ST_Distance(p.geom::geography, r.gg) AS distance_m,
       {_connector("p.geom")} AS connector
  FROM requests r
  JOIN poles p ON ST_DWithin(p.geom::geography, r.gg, :radius_m) AND p.deleted_at IS NULL
""")

FACILITIES = text(f"""
WITH {REQUESTS}
SELECT r.idx, f.layer, f.id, f.external_id, f.name, f.construction, f.nominal_kv,
       ST_Distance(f.geom::geography, r.gg) AS distance_m,
       {_connector("f.geom")} AS connector
  FROM requests r
  JOIN (
      SELECT 'lines' AS layer, id, external_id, name, construction::text AS construction, nominal_kv, geom
        FROM lines WHERE deleted_at IS NULL
      UNION ALL
      SELECT 'transformers', id, external_id, name, NULL, hv_kv, geom FROM transformers WHERE deleted_at IS NULL
      UNION ALL
      SELECT 'substations', id, external_id, name, NULL, nominal_kv, geom FROM substations WHERE deleted_at IS NULL
  ) f ON ST_DWithin(f.geom::geography, r.gg, :radius_m)
""")

MANUAL_ZONES = text(f"""
WITH {REQUESTS}
SELECT r.idx, m.id, m.external_id, m.name, m.zone_type, m.authority, m.reason,
       {_connector("m.geom")} AS connector
  FROM requests r
  JOIN manual_zones m ON ST_Intersects(m.geom, r.g)
 WHERE m.deleted_at IS NULL AND m.valid_from <= :on_date AND (m.valid_to IS NULL OR m.valid_to >= :on_date)
""")

# Nearest distribution transformers: a KNN walk of the geography index, then the exact distance.
TRANSFORMERS = text(f"""
WITH {REQUESTS}
SELECT r.idx, t.id, t.external_id, t.name, t.rated_kva, t.distance_m,
       COALESCE(load.kw, 0) AS contracted_kw
  FROM requests r
  CROSS JOIN LATERAL (
      SELECT t.id, t.external_id, t.name, t.rated_kva, ST_Distance(t.geom::geography, r.gg) AS distance_m
        FROM transformers t
       WHERE t.deleted_at IS NULL AND t.lv_kv <= :lv_max_kv
       ORDER BY t.geom::geography <-> r.gg
       LIMIT :candidates
  ) t
  LEFT JOIN LATERAL (
      SELECT sum(c.contracted_load_kw) AS kw FROM customers c
       WHERE c.transformer_id = t.id AND c.deleted_at IS NULL
  ) load ON true
""")
