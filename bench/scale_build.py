"""The 10x network of `./gw bench scale`: the full SimBench set copied side by side in a database of
its own, as a provincial utility's network would be (issue 14).

The 10x database starts as a copy of the bench database (`CREATE DATABASE ... TEMPLATE`: schema,
migrations, reference data and the 1x network in one file copy), and then gets the network nine more
times, one `INSERT ... SELECT` per table and copy, so the server does the work in a few dozen
statements instead of Python moving a gigabyte. Copy k is shifted k x 10 degrees of longitude (same
latitudes: geodesic lengths, buffers and distances are those of the original) and its keys are offset
so they stay unique: ids by k x the table's stride (a power of ten above its largest id), foreign keys
by the stride of the table they point at (so topology stays consistent), and external ids, account
and meter numbers and feeder and subnet names prefixed `x<k>/`. Derived zones are copied the same
way (translated bands of translated lines are exactly the zones a rebuild would compute there); the
benchmark then times a full rebuild on its own.

Columns are read from the catalogue, so a column a migration adds is copied as it stands; only the
keys, labels and geometries listed here are rewritten. A marker row keeps a fingerprint of what was
built (the SimBench files, the schema revision, the 1x row counts, this builder's rules): a second
run finds it and reuses the database.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy import create_engine, make_url

from gis.network.topology import bump_revision

COPIES = 10
LON_STEP_DEG = 10.0  # issue 14: "each copy shifted 10 degrees of longitude"
SUFFIX = f"_{COPIES}x"
# Bump when the copy rules below change: a database built under other rules is rebuilt.
BUILDER_RULES = 1
MARKER_TABLE = "bench_scale_build"
# Where the local stack's PostgreSQL superuser socket is (devstack/layout.py `Layout.sockdir`).
REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class CopiedTable:
    """A table of the network copied per copy: `keys` maps each id column to the table whose id
    stride offsets it; `labels` are text keys that get the copy's prefix."""

    name: str
    keys: dict[str, str]
    labels: tuple[str, ...] = ()


# In foreign-key order: a copy's rows only point at rows of the same copy inserted before them.
TABLES: tuple[CopiedTable, ...] = (
    CopiedTable("substations", {"id": "substations"}, ("external_id", "subnet")),
    CopiedTable("network_nodes", {"id": "network_nodes", "substation_id": "substations"}, ("external_id", "subnet")),
    CopiedTable("transformers", {"id": "transformers", "substation_id": "substations", "hv_node_id": "network_nodes",
                                 "lv_node_id": "network_nodes"}, ("external_id", "subnet")),
    CopiedTable("lines", {"id": "lines", "node_a_id": "network_nodes", "node_b_id": "network_nodes"},
                ("external_id", "subnet", "feeder")),
    CopiedTable("poles", {"id": "poles", "node_id": "network_nodes"}, ("external_id", "subnet")),
    CopiedTable("switches", {"id": "switches", "substation_id": "substations", "node_a_id": "network_nodes",
                             "node_b_id": "network_nodes"}, ("external_id", "subnet")),
    CopiedTable("customers", {"id": "customers", "node_id": "network_nodes", "transformer_id": "transformers"},
                ("external_id", "subnet", "account_number", "meter_number")),
    CopiedTable("line_zones", {"id": "line_zones", "line_id": "lines"}),
)


def database_url(url: str, database: str) -> str:
    """The same server and credentials, another database."""
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def psycopg_url(url: str) -> str:
    """An SQLAlchemy URL (`postgresql+psycopg://`) as libpq takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def ten_x_name(bench_url: str) -> str:
    database = make_url(bench_url).database
    assert database, "the bench URL names its database"
    return f"{database}{SUFFIX}"


def _files_digest(source_dir: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(source_dir.glob("*.csv")):
        digest.update(path.name.encode())
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def fingerprint(conn: psycopg.Connection, source_dir: Path) -> str:
    """What the 10x database is built from: the SimBench files, the schema revision and the 1x row
    counts of the bench database (`conn`), and this builder's rules."""
    revision = conn.execute("SELECT string_agg(version_num, ',') FROM alembic_version").fetchone()
    # Counts, not ids: a zone rebuild renumbers line_zones without changing what is there.
    counts = [conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(t.name))).fetchone()
              for t in TABLES]
    parts = [f"rules {BUILDER_RULES}", f"copies {COPIES} step {LON_STEP_DEG}", f"schema {revision}",
             f"rows {counts}", f"simbench {_files_digest(source_dir)}"]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def built_fingerprint(url: str) -> str | None:
    """The marker of a finished build in the database at `url`, or None (absent, unfinished)."""
    try:
        with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
            exists = conn.execute("SELECT to_regclass(%s)", (MARKER_TABLE,)).fetchone()
            if not exists or exists[0] is None:
                return None
            row = conn.execute(sql.SQL("SELECT fingerprint FROM {} ORDER BY built_at DESC LIMIT 1")
                               .format(sql.Identifier(MARKER_TABLE))).fetchone()
            return str(row[0]) if row else None
    except psycopg.OperationalError as exc:
        if "does not exist" in str(exc):
            return None
        raise


@contextmanager
def _admin(owner_url: str) -> Iterator[psycopg.Connection]:
    """A connection that may create and drop the 10x database: the owner's when it has CREATEDB,
    else (the local stack, where the owner has no such right) the local superuser's private socket,
    which is how `./gw` itself provisions databases (devstack/postgres.py)."""
    url = make_url(owner_url)
    with psycopg.connect(psycopg_url(database_url(owner_url, "postgres")), autocommit=True) as conn:
        row = conn.execute("SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
        if row and row[0]:
            yield conn
            return
    from devstack.layout import Layout  # the local stack only

    sockdir = Layout(REPO_ROOT).sockdir
    if not (sockdir / f".s.PGSQL.{url.port}").exists():
        raise SystemExit(f"the role {url.username} may not create databases and there is no local superuser "
                         f"socket: create the database {ten_x_name(owner_url)} (owner {url.username}) first")
    with psycopg.connect(host=str(sockdir), port=url.port, user="postgres", dbname="postgres",
                         autocommit=True) as conn:
        yield conn


def create_from_template(*, owner_url: str, app_role: str) -> str:
    """(Re)create the 10x database as a copy of the bench database at `owner_url` (nobody may be
    connected to it meanwhile); the application role may connect. Returns the copy's owner URL."""
    source = make_url(owner_url)
    name = ten_x_name(owner_url)
    with _admin(owner_url) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {} OWNER {}").format(
            sql.Identifier(name), sql.Identifier(str(source.database)), sql.Identifier(str(source.username))))
    ten_x_owner = database_url(owner_url, name)
    with psycopg.connect(psycopg_url(ten_x_owner), autocommit=True) as conn:
        conn.execute(sql.SQL("GRANT CONNECT, TEMP ON DATABASE {} TO {}").format(sql.Identifier(name),
                                                                               sql.Identifier(app_role)))
    return ten_x_owner


def _columns(conn: psycopg.Connection, table: str) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = %s "
        "AND is_generated = 'NEVER' ORDER BY ordinal_position", (table,))]


def _spatial(conn: psycopg.Connection, table: str) -> dict[str, str]:
    """Geometry and geography columns of `table` and their kind."""
    rows = conn.execute(
        "SELECT f_geometry_column, 'geometry' FROM geometry_columns WHERE f_table_name = %(t)s "
        "UNION ALL SELECT f_geography_column, 'geography' FROM geography_columns WHERE f_table_name = %(t)s",
        {"t": table})
    return {str(column): str(kind) for column, kind in rows}


def _stride(max_id: int) -> int:
    """A power of ten above every id of the original, so copy k's ids are k x stride + the original's."""
    return 10 ** len(str(max(max_id, 1)))


def copy_statement(table: CopiedTable, columns: list[str], spatial: dict[str, str],
                   strides: dict[str, int]) -> sql.Composed:
    """One copy of `table`'s original rows (id below its stride), keys offset and shapes shifted by the
    bound `k` and `dlon`."""
    expressions: list[sql.Composable] = []
    for column in columns:
        ident = sql.Identifier(column)
        if column in table.keys:
            expressions.append(sql.SQL("{} + %(k)s * {}").format(ident, sql.Literal(strides[table.keys[column]])))
        elif column in table.labels:
            expressions.append(sql.SQL("'x' || %(k)s || '/' || {}").format(ident))
        elif spatial.get(column) == "geometry":
            expressions.append(sql.SQL("ST_Translate({}, %(dlon)s, 0)").format(ident))
        elif spatial.get(column) == "geography":
            expressions.append(sql.SQL("ST_Translate({}::geometry, %(dlon)s, 0)::geography").format(ident))
        else:
            expressions.append(ident)
    return sql.SQL("INSERT INTO {table} ({columns}) SELECT {values} FROM {table} WHERE id < {stride}").format(
        table=sql.Identifier(table.name), columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
        values=sql.SQL(", ").join(expressions), stride=sql.Literal(strides[table.name]))


def add_copies(conn: psycopg.Connection, *, copies: int = COPIES, lon_step_deg: float = LON_STEP_DEG) -> dict[str, int]:
    """Copy the network in the database of `conn` (which holds only the original) `copies - 1` more
    times, one transaction per table, printing how long each took; the id sequences move past the
    copies; then analyse. Rows per table after."""
    strides = {}
    for table in TABLES:
        row = conn.execute(sql.SQL("SELECT coalesce(max(id), 0) FROM {}").format(sql.Identifier(table.name))).fetchone()
        strides[table.name] = _stride(int(row[0]) if row else 0)
    counts: dict[str, int] = {}
    for table in TABLES:
        statement = copy_statement(table, _columns(conn, table.name), _spatial(conn, table.name), strides)
        started = time.perf_counter()
        with conn.transaction():
            inserted = 0
            for k in range(1, copies):
                inserted += conn.execute(statement, {"k": k, "dlon": k * lon_step_deg}).rowcount
            conn.execute(sql.SQL("SELECT setval(pg_get_serial_sequence({}, 'id'), max(id)) FROM {}").format(
                sql.Literal(table.name), sql.Identifier(table.name)))
        total = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table.name))).fetchone()
        counts[table.name] = int(total[0]) if total else 0
        print(f"  {table.name:<14} +{inserted:>9,} rows in {time.perf_counter() - started:6.1f} s "
              f"({counts[table.name]:,} now; id stride {strides[table.name]:,})", flush=True)
    started = time.perf_counter()
    for table in TABLES:
        conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table.name)))
    print(f"  analyse        {time.perf_counter() - started:6.1f} s", flush=True)
    return counts


def bump_topology(owner_url: str) -> None:
    """An unlogged topology revision, as after an import: every cached graph reloads."""
    engine = create_engine(owner_url)
    try:
        with engine.begin() as connection:
            bump_revision(connection)
    finally:
        engine.dispose()


def mark_built(conn: psycopg.Connection, digest: str, seconds: float) -> None:
    conn.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} (fingerprint text NOT NULL, seconds float8 NOT NULL, "
                         "built_at timestamptz NOT NULL DEFAULT now())").format(sql.Identifier(MARKER_TABLE)))
    conn.execute(sql.SQL("INSERT INTO {} (fingerprint, seconds) VALUES (%s, %s)").format(
        sql.Identifier(MARKER_TABLE)), (digest, seconds))


def ensure_ten_x(*, bench_owner_url: str, app_role: str, source_dir: Path) -> tuple[str, bool]:
    """The 10x database's owner URL, built now unless a finished build of the same fingerprint is there
    (then reused). Nothing may be connected to the bench database while it is copied. Returns the
    URL and whether it was built in this run."""
    with psycopg.connect(psycopg_url(bench_owner_url), autocommit=True) as conn:
        digest = fingerprint(conn, source_dir)
    ten_x_owner = database_url(bench_owner_url, ten_x_name(bench_owner_url))
    if built_fingerprint(ten_x_owner) == digest:
        print(f"10x database {ten_x_name(bench_owner_url)}: reused (built from the same SimBench data and schema, "
              f"fingerprint {digest[:12]})")
        return ten_x_owner, False
    total = time.perf_counter()
    print(f"10x database {ten_x_name(bench_owner_url)}: building (fingerprint {digest[:12]})", flush=True)
    started = time.perf_counter()
    create_from_template(owner_url=bench_owner_url, app_role=app_role)
    print(f"  template copy  {time.perf_counter() - started:6.1f} s (schema, reference data and the 1x network)",
          flush=True)
    with psycopg.connect(psycopg_url(ten_x_owner), autocommit=True) as conn:
        add_copies(conn)
        bump_topology(ten_x_owner)
        seconds = time.perf_counter() - total
        mark_built(conn, digest, seconds)
    print(f"10x database built in {seconds:.1f} s", flush=True)
    return ten_x_owner, True


def app_url(bench_app_url: str, ten_x_owner_url: str) -> str:
    """The application role's URL for the 10x database."""
    return database_url(bench_app_url, str(make_url(ten_x_owner_url).database))


