"""The screening queries. Every query takes the whole batch of request geometries as bound
arrays (`:idx`, `:wkb`) and returns rows tagged with the request's index, so one screening and a
batch of a thousand run the same few statements.

Candidates are found with indexed geography `ST_DWithin` (GiST on `geom::geography`) on the sphere,
which is fast, with a search radius the engine widens by 1 % to cover the sphere's error, and are
measured with geography `ST_Distance` on the WGS84 spheroid, which is accurate to millimetres
anywhere on earth except near zero (below); the decisions are taken on those distances. A request may come with a
buffer `b` (a crane's standing point and working radius): its area is then the geodesic circle
of radius b, and distances to it are the distances to the point minus b, which is exact and much
cheaper than measuring against a many-sided polygon.

Geography can be wrong by the size of a gap near zero: PostGIS 3.3 says a polygon and a line 0.25 m
apart near the equator intersect (distance 0), and so for any edge running parallel to a line less
than about 2 m from it, at every latitude. Every distance geography puts below
`:exact_below_m` is therefore measured again in the UTM zone of the request (`r.local`), whose scale
is within 0.04 % of true, i.e. under 0.4 mm on such distances; only those few rows pay for the
projection (about 40 µs each: a projection named by a proj string instead of an EPSG code would be
rebuilt for every row, 15 ms), the rest keep the geography distance.

The line drawn for the map joins the two nearest points, found after stretching longitude by
cos(latitude) around the request (a local equirectangular frame: an affine map, so cheap for the
thousands of findings a blasting radius can produce, and true in direction at high latitudes).
"""

from __future__ import annotations

from sqlalchemy import text

REQUESTS = """
requests AS MATERIALIZED (
    SELECT r.idx, r.g, r.gg, r.b, cos(radians(ST_Y(r.c))) AS k,
           -- the UTM zone of the site's centre (UPS near the poles), by EPSG code so that PostGIS
           -- caches the projection; the centre comes from geography, as a site cut at ±180 has its
           -- planar centroid near 0° longitude
           CASE WHEN ST_Y(r.c) > 84 THEN 32661 WHEN ST_Y(r.c) < -80 THEN 32761
                ELSE CASE WHEN ST_Y(r.c) >= 0 THEN 32600 ELSE 32700 END
                     + LEAST(60, floor((ST_X(r.c) + 180) / 6)::int + 1) END AS local
      FROM (SELECT u.i AS idx, g.g, g.g::geography AS gg, u.b, ST_Centroid(g.g::geography)::geometry AS c
              FROM unnest(CAST(:idx AS int[]), CAST(:wkb AS bytea[]), CAST(:buffer AS float8[])) AS u(i, w, b)
             CROSS JOIN LATERAL (SELECT ST_GeomFromWKB(u.w, 4326) AS g) g) r
)"""


def _measured(asset: str, *, geography: str | None = None) -> str:
    """Metres from the request (`r.g`, before its buffer) to `asset` (a geometry in EPSG:4326): the
    spheroid distance, or, where that is under `:exact_below_m`, the distance in the request's UTM
    zone. The geography distance is computed once (the inner subquery is not flattened)."""
    geography = geography or f"{asset}::geography"
    return (f"(SELECT CASE WHEN s.d < :exact_below_m "
            f"THEN ST_Distance(ST_Transform({asset}, r.local), ST_Transform(r.g, r.local)) ELSE s.d END "
            f"FROM (SELECT ST_Distance({geography}, r.gg) AS d OFFSET 0) s)")


def _connector(asset_geom: str) -> str:
    """GeoJSON of the shortest line from the request to `asset_geom` (a geometry in EPSG:4326)."""
    return (f"ST_AsGeoJSON(ST_Scale(ST_ShortestLine(ST_Scale(r.g, r.k, 1), ST_Scale({asset_geom}, r.k, 1)), "
            f"1 / r.k, 1), 8)")


ZONE_PARTS = text(f"""
WITH {REQUESTS}
SELECT r.idx, z.line_id, l.external_id, l.name, l.construction, z.nominal_kv, z.setting,
       z.conductor_offset_m, z.wind_swing_m, {_measured("z.centre::geometry", geography="z.centre")} - r.b AS centre_m,
       {_connector("z.centre::geometry")} AS connector
  FROM requests r
  JOIN line_zones z ON ST_DWithin(z.centre, r.gg, :radius_m + r.b, false)
       -- Stored widths are those of the rule set the zones were built with; when screening with
       -- that same set, parts farther than their own half-width cannot produce a finding.
       AND (z.rule_set_id <> :rule_set_id OR ST_DWithin(z.centre, r.gg, z.half_width_m * 1.01 + 0.5 + r.b, false))
  JOIN lines l ON l.id = z.line_id AND l.deleted_at IS NULL
""")

LINES = text(f"""
WITH {REQUESTS}
SELECT r.idx, l.id, l.external_id, l.name, l.construction, l.nominal_kv, l.conductor_spread_m,
       l.wind_swing_m, l.min_ground_clearance_m, {_measured("l.geom")} - r.b AS centre_m,
       {_connector("l.geom")} AS connector
  FROM requests r
  JOIN lines l ON ST_DWithin(l.geom::geography, r.gg, :radius_m + r.b, false) AND l.deleted_at IS NULL
   AND l.construction = ANY(CAST(:constructions AS text[]))
""")

POLES = text(f"""
WITH {REQUESTS}
SELECT r.idx, p.id, p.external_id, p.kind, p.nominal_kv,
       {_measured("p.geom")} - r.b AS distance_m,
       {_connector("p.geom")} AS connector
  FROM requests r
  JOIN poles p ON ST_DWithin(p.geom::geography, r.gg, :radius_m + r.b, false) AND p.deleted_at IS NULL
""")

# One indexed join per facility table (a join against a UNION of the tables would not use the
# indexes). A 500 m blasting radius meets thousands of assets in a town: all are counted (`total`,
# on the sphere), the nearest `:listed` per request are returned and measured on the spheroid.
# A line is measured from its outer conductor: half its recorded spread, or of the default spread
# for its voltage (bands passed in as arrays, as `gis.network.line_defaults` reads them); cables 0.
_LINE_SPREAD = """CASE WHEN l.construction = 'overhead' THEN COALESCE(l.conductor_spread_m, (
               SELECT d.spread_m FROM unnest(CAST(:spread_above_kv AS float8[]), CAST(:spread_up_to_kv AS float8[]),
                                             CAST(:spread_m AS float8[])) AS d(above_kv, up_to_kv, spread_m)
                WHERE l.nominal_kv > d.above_kv AND l.nominal_kv <= d.up_to_kv)) END"""
_FACILITY_TABLES = (
    ("lines", "l.construction::text", "l.nominal_kv", _LINE_SPREAD, "lines l"),
    ("transformers", "NULL", "l.hv_kv", "NULL::float8", "transformers l"),
    ("substations", "NULL", "l.nominal_kv", "NULL::float8", "substations l"),
)
_FACILITY_HITS = "\n    UNION ALL\n".join(
    f"""SELECT r.idx, '{layer}' AS layer, l.id, l.external_id, l.name, {construction} AS construction,
           {kv} AS nominal_kv, {spread} AS conductor_spread_m, l.geom,
           ST_Distance(l.geom::geography, r.gg, false) - r.b AS centre_sphere_m
      FROM requests r JOIN {table} ON ST_DWithin(l.geom::geography, r.gg, :radius_m + r.b, false)
     WHERE l.deleted_at IS NULL"""
    for layer, construction, kv, spread, table in _FACILITY_TABLES)
FACILITIES = text(f"""
WITH {REQUESTS}, hits AS MATERIALIZED (
    {_FACILITY_HITS}
), outer_conductor AS (
    SELECT h.*, h.centre_sphere_m - COALESCE(h.conductor_spread_m, 0) / 2 AS sphere_m FROM hits h
), ranked AS (
    SELECT h.*, count(*) OVER (PARTITION BY h.idx) AS total,
           row_number() OVER (PARTITION BY h.idx ORDER BY h.sphere_m, h.layer, h.id) AS rank
      FROM outer_conductor h WHERE h.sphere_m <= :required_m
)
SELECT k.idx, k.layer, k.id, k.external_id, k.name, k.construction, k.nominal_kv, k.conductor_spread_m, k.total,
       {_measured("k.geom")} - r.b AS distance_m, {_connector("k.geom")} AS connector
  FROM ranked k JOIN requests r ON r.idx = k.idx
 WHERE k.rank <= :listed
""")

MANUAL_ZONES = text(f"""
WITH {REQUESTS}
SELECT r.idx, m.id, m.external_id, m.name, m.zone_type, m.authority, m.reason,
       {_connector("m.geom")} AS connector
  FROM requests r
  JOIN manual_zones m ON (r.b = 0 AND ST_Intersects(m.geom, r.g))
                      OR (r.b > 0 AND ST_DWithin(m.geom::geography, r.gg, r.b))
 WHERE m.deleted_at IS NULL AND m.valid_from <= :on_date AND (m.valid_to IS NULL OR m.valid_to >= :on_date)
""")

# Nearest distribution transformers: a KNN walk of the geography index, then the exact distance.
TRANSFORMERS = text(f"""
WITH {REQUESTS}
SELECT r.idx, t.id, t.external_id, t.name, t.rated_kva, t.distance_m,
       COALESCE(load.kw, 0) AS contracted_kw
  FROM requests r
  CROSS JOIN LATERAL (
      SELECT t.id, t.external_id, t.name, t.rated_kva,
             GREATEST(0, {_measured("t.geom")} - r.b) AS distance_m
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
