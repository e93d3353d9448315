"""SimBench import against a real database, checked against the CSV files read independently here.

The expectations are computed with `csv` and networkx only (no code from gis.imports), using the
SimBench naming convention for which LV grids hang under an MV grid (`MV1.101-LV1.101-Trafo 1`)
where the importer follows the topology instead.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

import networkx as nx
import pytest
from pyproj import Geod
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.imports.simbench import DEMO_SUBNET, default_source_dir, import_simbench
from gis.zones.service import rebuild_all_zones

TABLES = ("network_nodes", "substations", "transformers", "lines", "poles", "switches", "customers")
VERSIONED = TABLES[1:]


def _read(name: str) -> list[dict[str, str]]:
    with open(default_source_dir() / f"{name}.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def _grid(subnet: str) -> str:
    return subnet.split("_")[0]


@dataclass
class Expected:
    lines: list[dict[str, str]]
    overhead: int
    switches: list[dict[str, str]]
    transformers: list[dict[str, str]]
    customers: list[dict[str, str]]
    skipped_equivalent_loads: int
    coords: dict[str, tuple[float, float]]           # node id -> (lon, lat)
    feeding: dict[str, str]                           # customer id -> its only reachable distribution transformer


@pytest.fixture(scope="module")
def expected() -> Expected:
    prefix = DEMO_SUBNET
    coordinates = {r["id"]: (float(r["x"]), float(r["y"])) for r in _read("Coordinates")}
    nodes = {r["id"]: r for r in _read("Node")}
    coords = {n: coordinates[r["coordID"]] for n, r in nodes.items() if r["coordID"] in coordinates}
    transformers_all = _read("Transformer")
    lv_grids = {_grid(t["subnet"]) for t in transformers_all if t["id"].startswith(prefix + "-")}

    def chosen(subnet: str) -> bool:
        return subnet.startswith(prefix) or _grid(subnet) in lv_grids

    line_kind = {r["id"]: r["type"] for r in _read("LineType")}
    lines = [r for r in _read("Line") if chosen(r["subnet"])]
    assert all(r["nodeA"] in coords and r["nodeB"] in coords and coords[r["nodeA"]] != coords[r["nodeB"]]
               for r in lines)  # SimBench has no degenerate lines; a skipped one would need counting here
    switches = [r for r in _read("Switch") if chosen(r["subnet"])]
    transformers = [r for r in transformers_all if chosen(r["subnet"])]
    loads = [r for r in _read("Load") if chosen(r["subnet"])]
    customers = [r for r in loads if "_eq" not in r["subnet"] and nodes[r["node"]]["voltLvl"] == "7"
                 and r["node"] in coords]

    # 台区 by plain graph search: lines and closed switches, no transformers.
    graph = nx.Graph()
    graph.add_edges_from((r["nodeA"], r["nodeB"]) for r in lines)
    graph.add_edges_from((r["nodeA"], r["nodeB"]) for r in switches if r["cond"] == "1")
    lv_kv = {r["id"]: float(r["vmLV"]) for r in _read("TransformerType")}
    distribution = [t for t in transformers if lv_kv[t["type"]] < 1]
    feeding: dict[str, str] = {}
    for load in customers:
        if load["node"] not in graph:
            continue
        reachable = nx.node_connected_component(graph, load["node"])
        feeders = [t["id"] for t in distribution if t["nodeLV"] in reachable]
        if len(feeders) == 1:
            feeding[load["id"]] = feeders[0]
    return Expected(lines, sum(line_kind[r["type"]] == "ohl" for r in lines), switches, transformers, customers,
                    sum("_eq" in r["subnet"] for r in loads), coords, feeding)


def _import(engine, actor, progress=None):
    return import_simbench(engine=engine, source_dir=default_source_dir(), subnet=DEMO_SUBNET, actor=actor,
                           progress=progress)


def _scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def test_demo_subnet_counts_match_csv(owner_engine, system_actor, expected):
    calls: list[tuple[float, str]] = []
    # Every test starts by moving the revision on (tests/conftest.py), so "revision >= 1" would hold
    # without an import: the import must move it on from where it was.
    revision_before = _scalar(owner_engine, "SELECT revision FROM topology_state WHERE id = 1")
    report = _import(owner_engine, system_actor, progress=lambda f, m: calls.append((f, m)))

    assert report.lines == len(expected.lines)
    assert report.switches == len(expected.switches)
    assert report.transformers == len(expected.transformers)
    assert report.customers == len(expected.customers)
    assert report.skipped_equivalent_loads == expected.skipped_equivalent_loads
    assert 2000 <= report.customers <= 10000  # "one MV grid with its LV grids: a few thousand customers"
    for table, count in (("lines", report.lines), ("switches", report.switches),
                         ("transformers", report.transformers), ("customers", report.customers),
                         ("network_nodes", report.nodes), ("poles", report.poles),
                         ("substations", report.substations)):
        assert _scalar(owner_engine, f"SELECT count(*) FROM {table}") == count, table

    assert _scalar(owner_engine, "SELECT count(*) FROM network_nodes WHERE is_source") >= 1
    assert _scalar(owner_engine, "SELECT revision FROM topology_state WHERE id = 1") > revision_before
    assert _scalar(owner_engine, "SELECT count(*) FROM audit_log WHERE action = 'import.simbench' "
                                 "AND entity_id = :subnet", subnet=DEMO_SUBNET) == 1
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(calls) >= 5


def test_overhead_and_cable_follow_line_type(owner_engine, system_actor, expected):
    report = _import(owner_engine, system_actor)

    assert report.overhead_lines == expected.overhead
    assert _scalar(owner_engine, "SELECT count(*) FROM lines WHERE construction = 'overhead'") == expected.overhead
    assert _scalar(owner_engine, "SELECT count(*) FROM lines WHERE construction = 'cable'") == \
        len(expected.lines) - expected.overhead
    # Overhead spread comes from the default table and says so; cables have none.
    assert _scalar(owner_engine, "SELECT count(*) FROM lines WHERE construction = 'overhead' AND "
                                 "(conductor_spread_m IS NULL OR NOT conductor_spread_is_default)") == 0
    assert _scalar(owner_engine, "SELECT count(*) FROM lines WHERE construction = 'cable' AND "
                                 "conductor_spread_m IS NOT NULL") == 0


def test_second_import_changes_nothing(owner_engine, system_actor):
    _import(owner_engine, system_actor)

    def snapshot() -> dict[str, tuple]:
        with owner_engine.connect() as conn:
            state = {t: (conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one(),) for t in TABLES}
            for t in VERSIONED:
                row = conn.execute(text(f"SELECT sum(version), max(version), max(updated_at) FROM {t}")).one()
                state[t] += tuple(row)
            return state

    before = snapshot()
    revision = _scalar(owner_engine, "SELECT revision FROM topology_state WHERE id = 1")
    _import(owner_engine, system_actor)

    assert snapshot() == before
    assert _scalar(owner_engine, "SELECT max(version) FROM lines") == 1
    assert _scalar(owner_engine, "SELECT revision FROM topology_state WHERE id = 1") == revision + 1


def test_customers_get_their_distribution_transformer(owner_engine, system_actor, expected):
    _import(owner_engine, system_actor)

    assert _scalar(owner_engine, "SELECT count(*) FROM customers c LEFT JOIN transformers t "
                                 "ON t.id = c.transformer_id WHERE t.id IS NULL OR t.lv_kv >= 1") == 0
    with owner_engine.connect() as conn:
        actual = dict(conn.execute(text("SELECT c.external_id, t.external_id FROM customers c "
                                        "JOIN transformers t ON t.id = c.transformer_id")).all())
    assert expected.feeding, "no customer with a single reachable transformer to compare"
    sample = sorted(expected.feeding)[len(expected.feeding) // 2]
    assert actual[sample] == expected.feeding[sample]
    assert {c: actual[c] for c in expected.feeding} == expected.feeding


def test_line_length_is_geodesic(owner_engine, system_actor, expected):
    _import(owner_engine, system_actor)
    geod = Geod(ellps="WGS84")
    by_id = {r["id"]: r for r in expected.lines}

    with owner_engine.connect() as conn:
        rows = conn.execute(text(
            "(SELECT external_id, length_m FROM lines WHERE construction = 'overhead' ORDER BY length_m DESC LIMIT 1) "
            "UNION ALL (SELECT external_id, length_m FROM lines WHERE construction = 'cable' "
            "ORDER BY external_id LIMIT 1)")).all()
    assert len(rows) == 2
    for external_id, length_m in rows:
        line = by_id[external_id]
        (lon1, lat1), (lon2, lat2) = expected.coords[line["nodeA"]], expected.coords[line["nodeB"]]
        _, _, distance = geod.inv(lon1, lat1, lon2, lat2)
        assert length_m == pytest.approx(distance, abs=0.01)


def _zone_rows(engine) -> dict[int, list[tuple[int, str]]]:
    """line id -> (zone row id, geometry) of its zones."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT line_id, id, ST_AsText(ST_SnapToGrid(geom, 1e-9)) FROM line_zones "
                                 "ORDER BY line_id, id")).all()
    found: dict[int, list[tuple[int, str]]] = {}
    for line_id, zone_id, shape in rows:
        found.setdefault(line_id, []).append((zone_id, shape))
    return found


def test_a_re_import_recomputes_the_zones_of_the_lines_it_changed_and_no_others(owner_engine, system_actor):
    """Zones follow the import in its transaction, but only for lines it inserted or changed, in
    chunks of lines: a re-import of an unchanged province costs no zone work at all."""
    _import(owner_engine, system_actor)
    first = _zone_rows(owner_engine)
    with owner_engine.begin() as conn:
        moved = conn.execute(text("SELECT id FROM lines WHERE construction = 'overhead' ORDER BY id LIMIT 1")
                             ).scalar_one()
        # An edit outside the import: the import sets the line back to the data set's geometry.
        conn.execute(text("UPDATE lines SET geom = ST_Translate(geom, 0.001, 0) WHERE id = :id"), {"id": moved})
        conn.execute(text("DELETE FROM line_zones WHERE line_id = :id"), {"id": moved})

    _import(owner_engine, system_actor)

    second = _zone_rows(owner_engine)
    assert sorted(second) == sorted(first)
    assert {k: v for k, v in second.items() if k != moved} == {k: v for k, v in first.items() if k != moved}
    assert [shape for _, shape in second[moved]] == [shape for _, shape in first[moved]]  # rebuilt as it was
    assert [zone_id for zone_id, _ in second[moved]] != [zone_id for zone_id, _ in first[moved]]


def test_an_import_builds_zones_in_chunks_the_same_as_in_one_statement(owner_engine, system_actor):
    import_simbench(engine=owner_engine, source_dir=default_source_dir(), subnet=DEMO_SUBNET, actor=system_actor,
                    zone_chunk_lines=500)
    in_chunks = {line: [shape for _, shape in zones] for line, zones in _zone_rows(owner_engine).items()}
    with owner_engine.begin() as conn, Session(bind=conn) as db:
        rebuild_all_zones(db=db)
        db.flush()
    in_one = {line: [shape for _, shape in zones] for line, zones in _zone_rows(owner_engine).items()}

    assert in_chunks == in_one and len(in_one) > 500 * 2  # more than two chunks' worth of lines have zones
