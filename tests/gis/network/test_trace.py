"""Outage traces on a real SimBench grid, checked against an independent computation.

The independent side builds the whole SimBench network from its CSV files with networkx (every
line, closed switch and transformer; infeeds = the extra-high-voltage grid connections) and asks,
for the same element, which loads end up in a part with no infeed. The API must name exactly
the same customers, though it only holds the demo grid and computes it its own way.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from core.permissions import Role
from gis.imports.simbench import default_source_dir
from tests.gis.network.demo_grid import SUBNET

SHARED_DATA = True


def _rows(directory: Path, name: str) -> list[dict[str, str]]:
    with open(directory / f"{name}.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


@dataclass
class ReferenceGrid:
    graph: nx.MultiGraph
    infeeds: set[str]
    customers_at: dict[str, list[str]]  # node -> LV load ids (real customers, not `_eq` equivalents)
    lines: list[dict[str, str]]
    switches: list[dict[str, str]]
    node_substation: dict[str, str]

    edge_ends: dict[tuple[str, str], tuple[str, str]]

    def _dead_nodes(self, removed: set[tuple[str, str]]) -> set[str]:
        """Nodes in parts with no infeed once `removed` edges are taken out (put back afterwards)."""
        for key in removed:
            self.graph.remove_edge(*self.edge_ends[key], key=key)
        try:
            return {node for component in nx.connected_components(self.graph) if not component & self.infeeds
                    for node in component}
        finally:
            for key in removed:
                self.graph.add_edge(*self.edge_ends[key], key=key)

    def cut_off_customers(self, *, removed: tuple[str, str], opened: frozenset[str] = frozenset()) -> set[str]:
        """Customers who lose supply when `removed` goes out, with `opened` switches already open."""
        already_open = {("switch", s) for s in opened}
        newly_dead = self._dead_nodes(already_open | {removed}) - self._dead_nodes(already_open)
        return {c for node in newly_dead for c in self.customers_at.get(node, [])}


@pytest.fixture(scope="module")
def reference() -> ReferenceGrid:
    directory = default_source_dir()
    graph = nx.MultiGraph()
    lines = _rows(directory, "Line")
    switches = _rows(directory, "Switch")
    edge_ends: dict[tuple[str, str], tuple[str, str]] = {}
    for kind, rows, a, b in (("line", lines, "nodeA", "nodeB"), ("switch", switches, "nodeA", "nodeB"),
                             ("transformer", _rows(directory, "Transformer"), "nodeHV", "nodeLV")):
        for row in rows:
            if kind == "switch" and row["cond"] != "1":
                continue  # open in the data: carries nothing
            edge_ends[(kind, row["id"])] = (row[a], row[b])
            graph.add_edge(row[a], row[b], key=(kind, row["id"]))
    infeeds = {row["node"] for row in _rows(directory, "ExternalNet") if row["voltLvl"] == "1"}
    customers_at: dict[str, list[str]] = {}
    for row in _rows(directory, "Load"):
        if row["voltLvl"] == "7" and "_eq" not in row["subnet"]:
            customers_at.setdefault(row["node"], []).append(row["id"])
    node_substation = {row["id"]: row["substation"] for row in _rows(directory, "Node") if row["substation"] != "NULL"}
    return ReferenceGrid(graph, infeeds, customers_at, lines, switches, node_substation, edge_ends)


def _id_of(engine: Engine, table: str, external_id: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT id FROM {table} WHERE external_id = :e"), {"e": external_id}).scalar_one()


def _trace(client: TestClient, headers: dict[str, str], element_type: str, element_id: int) -> dict:
    response = client.post("/api/v1/network/trace", headers=headers,
                           json={"direction": "downstream", "element": {"type": element_type, "id": element_id}})
    assert response.status_code == 200, response.text
    return response.json()


def _feeder_heads(reference: ReferenceGrid) -> list[dict[str, str]]:
    return [r for r in reference.lines if r["subnet"].startswith(f"{SUBNET}_Feeder") and "busbar" in r["nodeA"]]


def test_feeder_head_outage_cuts_off_exactly_the_independently_computed_customers(
    demo_grid: None, reference: ReferenceGrid, client: TestClient, auth: Callable[[Role], dict[str, str]],
    owner_engine: Engine,
) -> None:
    heads = _feeder_heads(reference)
    assert heads, "the demo grid has feeders leaving the busbar"
    for head in heads:
        expected = reference.cut_off_customers(removed=("line", head["id"]))
        trace = _trace(client, auth(Role.dispatcher), "line", _id_of(owner_engine, "lines", head["id"]))

        assert {c["external_id"] for c in trace["customers"]} == expected, head["id"]
        assert trace["customer_count"] == len(expected)
        assert trace["meshed"] is False


def test_transformer_outage_cuts_off_its_supply_area(
    demo_grid: None, reference: ReferenceGrid, client: TestClient, auth: Callable[[Role], dict[str, str]],
    owner_engine: Engine,
) -> None:
    with owner_engine.connect() as conn:
        transformer_id, external_id, area = conn.execute(text("""
            SELECT t.id, t.external_id, count(c.id) FROM transformers t JOIN customers c ON c.transformer_id = t.id
             WHERE t.lv_kv < 1 GROUP BY t.id ORDER BY count(c.id) DESC LIMIT 1""")).one()

    trace = _trace(client, auth(Role.inspector), "transformer", transformer_id)

    expected = reference.cut_off_customers(removed=("transformer", external_id))
    assert {c["external_id"] for c in trace["customers"]} == expected
    assert trace["customer_count"] == area  # its 台区: every customer it feeds, and no other
    assert trace["transformers"][0]["external_id"] == external_id


def test_opening_a_switch_changes_what_a_feeder_outage_cuts_off(
    demo_grid: None, reference: ReferenceGrid, client: TestClient, auth: Callable[[Role], dict[str, str]],
    owner_engine: Engine,
) -> None:
    head = _feeder_heads(reference)[0]
    before = reference.cut_off_customers(removed=("line", head["id"]))
    # A closed switch inside the feeder whose opening alone would cut off some, not all, of its customers.
    switch = next(sw for sw in reference.switches
                  if sw["subnet"].startswith(SUBNET) and sw["cond"] == "1"
                  and 0 < len(reference.cut_off_customers(removed=("switch", sw["id"])) & before) < len(before)
                  and sw["type"] == "LBS")
    expected = reference.cut_off_customers(removed=("line", head["id"]), opened=frozenset({switch["id"]}))
    switch_id = _id_of(owner_engine, "switches", switch["id"])
    headers = auth(Role.dispatcher)
    version = client.get(f"/api/v1/network/switches/{switch_id}", headers=headers).headers["ETag"]

    opened = client.patch(f"/api/v1/network/switches/{switch_id}", json={"properties": {"is_open": True}},
                          headers={**headers, "If-Match": version})
    try:
        assert opened.status_code == 200, opened.text
        trace = _trace(client, headers, "line", _id_of(owner_engine, "lines", head["id"]))
        open_switch_trace = _trace(client, headers, "switch", switch_id)

        # Customers behind the now-open switch are already off, so the feeder outage cuts off fewer.
        assert {c["external_id"] for c in trace["customers"]} == expected
        assert len(expected) < len(before)
        assert open_switch_trace["element_open"] is True and open_switch_trace["customer_count"] == 0
    finally:
        client.patch(f"/api/v1/network/switches/{switch_id}", json={"properties": {"is_open": False}},
                     headers={**headers, "If-Match": opened.headers["ETag"]})


def test_customer_feed_path_runs_through_its_transformer_to_the_substation(
    demo_grid: None, reference: ReferenceGrid, client: TestClient, auth: Callable[[Role], dict[str, str]],
    owner_engine: Engine,
) -> None:
    with owner_engine.connect() as conn:
        account, load_id, transformer_ext = conn.execute(text("""
            SELECT c.account_number, c.external_id, t.external_id FROM customers c
              JOIN transformers t ON t.id = c.transformer_id ORDER BY c.id LIMIT 1""")).one()

    response = client.post("/api/v1/network/trace", headers=auth(Role.approver),
                           json={"direction": "upstream", "customer": {"account_number": account}})

    assert response.status_code == 200, response.text
    trace = response.json()
    assert trace["transformer"]["external_id"] == transformer_ext
    assert trace["substation"] is not None
    path = [(step["type"], step["external_id"]) for step in trace["path"]]
    assert [kind for kind, _ in path].count("transformer") == 1 and ("transformer", transformer_ext) in path
    # Independently: the fewest edges from the load's node to any node of that substation.
    load_node = next(n for n, loads in reference.customers_at.items() if load_id in loads)
    station_nodes = {n for n, station in reference.node_substation.items()
                     if station == trace["substation"]["external_id"]}
    lengths = nx.single_source_shortest_path_length(reference.graph, load_node)
    assert len(path) == min(lengths[n] for n in station_nodes if n in lengths)


def test_unknown_elements_and_malformed_requests_get_clear_errors(
    demo_grid: None, client: TestClient, auth: Callable[[Role], dict[str, str]]
) -> None:
    headers = auth(Role.dispatcher)
    missing = client.post("/api/v1/network/trace", headers=headers,
                          json={"direction": "downstream", "element": {"type": "line", "id": 987654321}})
    wrong_shape = client.post("/api/v1/network/trace", headers=headers,
                              json={"direction": "upstream", "element": {"type": "line", "id": 1}})

    assert missing.status_code == 404 and "987654321" in missing.json()["detail"]
    assert wrong_shape.status_code == 422
