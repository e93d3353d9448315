"""The 10x network of `./gw bench scale` is the same network side by side: built here from the demo
grid copied three times, every copy must be the original shifted east, with its own keys and its
topology, customers and zones wired to rows of the same copy only."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from bench.scale_build import TABLES, add_copies, psycopg_url
from core.database import unit_of_work
from gis.zones.service import refresh_line_zones
from tests.conftest import truncate_data
from tests.gis.network.demo_grid import load_demo_grid

COPIES = 3
STEP_DEG = 10.0
SHARED_DATA = True


@pytest.fixture(scope="module")
def copied(owner_engine: Engine) -> Iterator[dict[str, int]]:
    """Rows per table of the demo grid before copying; the tables hold three copies after (emptied
    after the module)."""
    load_demo_grid(owner_engine)
    with owner_engine.connect() as conn:
        before = {t.name: conn.execute(text(f"SELECT count(*) FROM {t.name}")).scalar_one() for t in TABLES}
    with psycopg.connect(psycopg_url(owner_engine.url.render_as_string(hide_password=False)), autocommit=True) as conn:
        add_copies(conn, copies=COPIES, lon_step_deg=STEP_DEG)
    yield before
    truncate_data(owner_engine)


def _stride(conn, table: str) -> int:
    largest = conn.execute(text(f"SELECT max(id) FROM {table}")).scalar_one()
    return 10 ** (len(str(largest)) - 1)  # the copies' ids start at one stride per copy


def test_every_table_holds_each_row_once_per_copy_with_its_own_keys(owner_engine: Engine, copied: dict[str, int]):
    with owner_engine.connect() as conn:
        for table in TABLES:
            total, external = conn.execute(text(
                f"SELECT count(*), count(DISTINCT {'external_id' if table.name != 'line_zones' else 'id'}) "
                f"FROM {table.name}")).one()
            assert total == external == COPIES * copied[table.name], table.name
        assert conn.execute(text("SELECT count(DISTINCT account_number) FROM customers")).scalar_one() == \
            COPIES * copied["customers"]
        assert set(conn.execute(text("SELECT DISTINCT split_part(feeder, '/', 1) FROM lines "
                                     "WHERE feeder LIKE 'x%/%'")).scalars()) == {f"x{k}" for k in range(1, COPIES)}


def test_a_copy_is_the_original_shifted_east_with_the_same_lengths(owner_engine: Engine, copied: dict[str, int]):
    with owner_engine.connect() as conn:
        stride = _stride(conn, "lines")
        mismatched = conn.execute(text("""
            SELECT count(*) FROM lines o JOIN lines c ON c.id = o.id + :k * :stride
             WHERE o.id < :stride AND NOT (ST_Equals(c.geom, ST_Translate(o.geom, :dlon, 0))
                   AND abs(c.length_m - o.length_m) <= 1e-6 * o.length_m
                   AND c.external_id = 'x' || :k || '/' || o.external_id)"""),
            {"k": 2, "stride": stride, "dlon": 2 * STEP_DEG}).scalar_one()
        paired = conn.execute(text("SELECT count(*) FROM lines o JOIN lines c ON c.id = o.id + 2 * :stride "
                                   "WHERE o.id < :stride"), {"stride": stride}).scalar_one()
    assert paired == copied["lines"]
    assert mismatched == 0


def test_every_edge_customer_and_zone_points_into_its_own_copy(owner_engine: Engine, copied: dict[str, int]):
    """Topology stays consistent: nothing of copy k reaches a node, transformer or line of another copy."""
    with owner_engine.connect() as conn:
        strides = {t: _stride(conn, t) for t in ("network_nodes", "lines", "switches", "transformers", "customers",
                                                 "line_zones")}
        crossing = conn.execute(text("""
            SELECT count(*) FROM (
                SELECT e.source / :nodes AS source_copy, e.target / :nodes AS target_copy,
                       e.edge_id / CASE e.edge_type WHEN 'line' THEN :lines WHEN 'switch' THEN :switches
                                                    ELSE :transformers END AS edge_copy
                  FROM network_edges e) c
             WHERE c.edge_copy <> c.source_copy OR c.edge_copy <> c.target_copy"""),
            {"lines": strides["lines"], "switches": strides["switches"], "transformers": strides["transformers"],
             "nodes": strides["network_nodes"]}).scalar_one()
        edges = conn.execute(text("SELECT count(*) FROM network_edges")).scalar_one()
        stray_customers = conn.execute(text(
            "SELECT count(*) FROM customers WHERE id / :c <> node_id / :n OR id / :c <> transformer_id / :t"),
            {"c": strides["customers"], "n": strides["network_nodes"], "t": strides["transformers"]}).scalar_one()
        stray_zones = conn.execute(text("SELECT count(*) FROM line_zones WHERE id / :z <> line_id / :l"),
                                   {"z": strides["line_zones"], "l": strides["lines"]}).scalar_one()
    assert edges > 0
    assert crossing == 0
    assert stray_customers == 0
    assert stray_zones == 0


def test_copied_zones_are_what_a_rebuild_computes_there(owner_engine: Engine, session_factory: sessionmaker[Session],
                                                        copied: dict[str, int]):
    """The builder copies zones instead of rebuilding them: the shifted band must be the band a rebuild
    draws around the shifted line (same latitude, so the same geodesic buffer)."""
    with owner_engine.connect() as conn:
        stride = _stride(conn, "lines")
        overhead = conn.execute(text("SELECT id FROM lines WHERE construction = 'overhead' AND id > 2 * :s "
                                     "ORDER BY id LIMIT 5"), {"s": stride}).scalars().all()
        before = dict(conn.execute(text("SELECT line_id, ST_AsEWKB(ST_Union(geom)) FROM line_zones "
                                        "WHERE line_id = ANY(:ids) GROUP BY line_id"), {"ids": list(overhead)}).all())
    assert overhead and len(before) == len(overhead)
    with unit_of_work(session_factory) as db:
        refresh_line_zones(db=db, line_ids=list(overhead))
    with owner_engine.connect() as conn:
        for line_id, copied_band in before.items():
            distance = conn.execute(text(
                "SELECT ST_HausdorffDistance(ST_Union(geom), ST_GeomFromEWKB(:band)) FROM line_zones "
                "WHERE line_id = :id"), {"band": copied_band, "id": line_id}).scalar_one()
            assert distance < 1e-7, f"line {line_id}: the rebuilt zone is {distance} degrees off the copied one"
