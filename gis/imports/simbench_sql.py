"""Loading a SimBench import plan: COPY into TEMP staging tables, then one set-based upsert per layer.

Every upsert is `INSERT ... SELECT ... ON CONFLICT (external_id) DO UPDATE ... WHERE (columns) IS
DISTINCT FROM (EXCLUDED columns)`, so re-importing unchanged data writes nothing and bumps no
`version`. Geometry is built here, in SQL, from the staged coordinates: points with
`ST_SetSRID(ST_MakePoint(x, y), 4326)`, lines with `ST_MakeLine` between the two end nodes.
All statements are constants: values only ever travel through COPY.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

import psycopg

# (table, columns with types): dropped at commit or rollback with the transaction.
STAGING: dict[str, str] = {
    "stg_substation": "external_id text, subnet text",
    "stg_substation_point": "substation text, x float8, y float8, kv float8",
    "stg_node": "external_id text, node_type text, nominal_kv float8, subnet text, substation text, "
                "x float8, y float8, is_source bool",
    "stg_transformer": "external_id text, type_name text, rated_kva float8, hv_kv float8, lv_kv float8, "
                       "subnet text, substation text, hv_node text, lv_node text",
    "stg_line": "external_id text, construction text, nominal_kv float8, conductor_type text, spread float8, "
                "spread_is_default bool, feeder text, subnet text, node_a text, node_b text",
    "stg_pole": "external_id text, kind text, nominal_kv float8, node text, subnet text",
    "stg_switch": "external_id text, switch_type text, is_open bool, nominal_kv float8, subnet text, "
                  "substation text, node_a text, node_b text",
    "stg_customer": "external_id text, account_number text, meter_number text, name text, category text, "
                    "key_account bool, contracted_load_kw float8, contact_phone text, subnet text, node text, "
                    "transformer text",
}


def _columns(table: str) -> str:
    return ", ".join(part.strip().split(" ", 1)[0] for part in STAGING[table].split(","))


def create_staging(cur: psycopg.Cursor) -> None:
    for table, columns in STAGING.items():
        cur.execute(f"CREATE TEMP TABLE {table} ({columns}) ON COMMIT DROP")  # constant names only


def copy_rows(cur: psycopg.Cursor, table: str, rows: Iterable[Sequence[object]]) -> None:
    with cur.copy(f"COPY {table} ({_columns(table)}) FROM STDIN") as copy:  # table from STAGING only
        for row in rows:
            copy.write_row(row)
    cur.execute(f"ANALYZE {table}")  # temp tables are never auto-analysed; the joins below need stats


def _upsert(table: str, columns: Sequence[str], select_sql: str, *, versioned: bool = True,
            insert_only: Sequence[str] = ()) -> str:
    """`select_sql` yields external_id, `columns`, then `insert_only` (set on insert, never updated)."""
    insert_cols = ", ".join(("external_id", *columns, *insert_only))
    assignments = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns)
    if versioned:
        assignments += ", version = t.version + 1, updated_at = now()"
    current = ", ".join(f"t.{c}" for c in columns)
    incoming = ", ".join(f"EXCLUDED.{c}" for c in columns)
    return (f"INSERT INTO {table} AS t ({insert_cols}) {select_sql} "
            f"ON CONFLICT (external_id) DO UPDATE SET {assignments} "
            f"WHERE ({current}) IS DISTINCT FROM ({incoming})")


POINT = "ST_SetSRID(ST_MakePoint({x}, {y}), 4326)"

UPSERT_SUBSTATIONS = _upsert(
    "substations", ("name", "subnet", "nominal_kv", "geom"),
    "SELECT s.external_id, s.external_id, s.subnet, p.kv, p.geom FROM stg_substation s "
    "JOIN (SELECT substation, max(kv) AS kv, "
    f"ST_Centroid(ST_Collect({POINT.format(x='x', y='y')})) AS geom "
    "FROM stg_substation_point GROUP BY substation) p ON p.substation = s.external_id",
)

UPSERT_NODES = _upsert(
    "network_nodes", ("node_type", "nominal_kv", "subnet", "substation_id", "is_source", "geom"),
    "SELECT n.external_id, n.node_type, n.nominal_kv, n.subnet, s.id, n.is_source, "
    f"CASE WHEN n.x IS NOT NULL AND n.y IS NOT NULL THEN {POINT.format(x='n.x', y='n.y')} END "
    "FROM stg_node n LEFT JOIN substations s ON s.external_id = n.substation",
    versioned=False,
)

UPSERT_TRANSFORMERS = _upsert(
    "transformers", ("name", "type_name", "rated_kva", "hv_kv", "lv_kv", "subnet", "substation_id",
                     "hv_node_id", "lv_node_id", "geom"),
    "SELECT t.external_id, t.external_id, t.type_name, t.rated_kva, t.hv_kv, t.lv_kv, t.subnet, s.id, "
    "hv.id, lv.id, COALESCE(lv.geom, hv.geom) FROM stg_transformer t "
    "LEFT JOIN substations s ON s.external_id = t.substation "
    "LEFT JOIN network_nodes hv ON hv.external_id = t.hv_node "
    "LEFT JOIN network_nodes lv ON lv.external_id = t.lv_node",
)

UPSERT_LINES = _upsert(
    "lines", ("name", "construction", "nominal_kv", "conductor_type", "conductor_spread_m",
              "conductor_spread_is_default", "feeder", "subnet", "node_a_id", "node_b_id", "geom"),
    "SELECT l.external_id, l.external_id, l.construction, l.nominal_kv, l.conductor_type, l.spread, "
    "l.spread_is_default, l.feeder, l.subnet, a.id, b.id, ST_MakeLine(a.geom, b.geom) FROM stg_line l "
    "JOIN network_nodes a ON a.external_id = l.node_a JOIN network_nodes b ON b.external_id = l.node_b",
)

UPSERT_POLES = _upsert(
    "poles", ("kind", "nominal_kv", "node_id", "subnet", "geom"),
    "SELECT p.external_id, p.kind, p.nominal_kv, n.id, p.subnet, n.geom FROM stg_pole p "
    "JOIN network_nodes n ON n.external_id = p.node",
)

UPSERT_SWITCHES = _upsert(
    "switches", ("name", "switch_type", "normally_open", "is_open", "nominal_kv", "subnet", "substation_id",
                 "node_a_id", "node_b_id", "geom"),
    "SELECT w.external_id, w.external_id, w.switch_type, w.is_open, w.is_open, w.nominal_kv, w.subnet, s.id, "
    "a.id, b.id, COALESCE(a.geom, b.geom) FROM stg_switch w "
    "LEFT JOIN substations s ON s.external_id = w.substation "
    "LEFT JOIN network_nodes a ON a.external_id = w.node_a "
    "LEFT JOIN network_nodes b ON b.external_id = w.node_b",
)

# address, vulnerable and guaranteed_supply are not in SimBench: set on insert, never overwritten
# (they belong to the customer records the utility maintains).
_CUSTOMER_COLUMNS = ("account_number", "meter_number", "name", "category", "key_account", "contracted_load_kw",
                     "contact_phone", "subnet", "node_id", "transformer_id", "geom")
UPSERT_CUSTOMERS = _upsert(
    "customers", _CUSTOMER_COLUMNS,
    "SELECT c.external_id, c.account_number, c.meter_number, c.name, c.category, c.key_account, "
    "c.contracted_load_kw, c.contact_phone, c.subnet, n.id, t.id, n.geom, '', FALSE, FALSE "
    "FROM stg_customer c JOIN network_nodes n ON n.external_id = c.node "
    "LEFT JOIN transformers t ON t.external_id = c.transformer",
    insert_only=("address", "vulnerable", "guaranteed_supply"),
)

# Two imports at once would upsert the same rows in different orders (and could deadlock): queue them.
# Held by a connection of its own for the whole import (all its chunks), released when it ends or dies.
SERIALIZE_IMPORTS = "SELECT pg_advisory_lock(hashtext('gridwarden:import:simbench'))"
RELEASE_IMPORTS = "SELECT pg_advisory_unlock(hashtext('gridwarden:import:simbench'))"


# Imports in committed chunks (issue 14): the validated plan is staged once in `import_staging_rows`
# (one JSON object per row, keys = the columns of its TEMP staging table), then each chunk fills the
# TEMP table of its layer from a range of `seq` and runs that layer's upsert.
STAGE_ROWS = "COPY import_staging_rows (job_id, layer, seq, row) FROM STDIN"
_LOAD_CHUNK = ("INSERT INTO {table} SELECT (jsonb_populate_record(NULL::{table}, s.row)).* "
               "FROM import_staging_rows s WHERE s.job_id = %s AND s.layer = %s AND s.seq > %s AND s.seq <= %s")
# A substation's point is the centroid of all its points: they travel with their substation's chunk.
_LOAD_SUBSTATION_POINTS = (
    "INSERT INTO stg_substation_point SELECT (jsonb_populate_record(NULL::stg_substation_point, s.row)).* "
    "FROM import_staging_rows s WHERE s.job_id = %s AND s.layer = %s "
    "AND s.row->>'substation' IN (SELECT external_id FROM stg_substation)")
DROP_STAGED = "DELETE FROM import_staging_rows WHERE job_id = %s"


def stage_rows(cur: psycopg.Cursor, *, job_id: int, layer: str, table: str, rows: Iterable[Sequence[object]]) -> int:
    """COPY one layer's rows into `import_staging_rows`, numbered 1.. in writing order; returns how many."""
    names = [part.strip().split(" ", 1)[0] for part in STAGING[table].split(",")]
    count = 0
    with cur.copy(STAGE_ROWS) as copy:
        for count, row in enumerate(rows, start=1):
            copy.write_row((job_id, layer, count, json.dumps(dict(zip(names, row, strict=True)), allow_nan=False)))
    return count


def load_chunk(cur: psycopg.Cursor, *, job_id: int, layer: str, table: str, after_seq: int, through_seq: int,
               points_layer: str | None = None) -> None:
    """Fill the TEMP staging table `table` (see `create_staging`) with the layer's rows in
    `after_seq < seq <= through_seq`, and for substations with all their points."""
    cur.execute(_LOAD_CHUNK.format(table=table), (job_id, layer, after_seq, through_seq))  # table from STAGING only
    cur.execute(f"ANALYZE {table}")
    if points_layer is not None:
        cur.execute(_LOAD_SUBSTATION_POINTS, (job_id, points_layer))
        cur.execute("ANALYZE stg_substation_point")
