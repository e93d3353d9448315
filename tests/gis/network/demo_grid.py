"""The SimBench MV1.101 demo grid the network tests and the console's browser tests share, and
the elements of it whose loss cuts customers off (the ones a trace and a switch toggle show best)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from core.context import Actor
from gis.imports.simbench import default_source_dir, import_simbench
from gis.network.topology import ElementType, Graph, SharedGraph, downstream_nodes, load_graph
from tests.conftest import truncate_data

SUBNET = "MV1.101"
# Element type -> its table (a table name cannot be a bound parameter).
TABLES = {ElementType.switch: "switches", ElementType.line: "lines", ElementType.transformer: "transformers"}


def load_demo_grid(owner_engine: Engine) -> None:
    """Empty tables, then the demo grid imported as the schema owner."""
    truncate_data(owner_engine)
    import_simbench(engine=owner_engine, source_dir=default_source_dir(), subnet=SUBNET, actor=Actor.system("tests"))


@pytest.fixture(scope="module")
def demo_grid(owner_engine: Engine) -> Iterator[None]:
    """The demo grid for one module's tests (a module with `SHARED_DATA = True`), emptied after it."""
    load_demo_grid(owner_engine)
    yield
    truncate_data(owner_engine)


def customers_cut_off(session_factory: sessionmaker[Session], element: ElementType) -> dict[int, int]:
    """Element id -> customers that lose supply when it is out, for each element of the demo grid
    whose loss cuts some off (with the switches as they stand)."""
    with session_factory() as db:
        graph = load_graph(db)
        candidates = db.execute(text(
            f"SELECT id FROM {TABLES[element]} WHERE deleted_at IS NULL AND subnet LIKE :subnet ORDER BY id"),
            {"subnet": f"{SUBNET}%"}).scalars().all()
        found: dict[int, int] = {}
        for element_id in candidates:
            cut = downstream_nodes(graph, element, element_id)
            if cut is not None and cut.nodes and (customers := db.scalar(
                    text("SELECT count(*) FROM customers WHERE node_id = ANY(:nodes)"), {"nodes": list(cut.nodes)})):
                found[int(element_id)] = int(customers)
    assert found, f"the demo grid has a {element} that feeds customers"
    return found


def fewest_cut_off(found: dict[int, int]) -> int:
    """The element cutting off the fewest customers (lowest id among equals)."""
    return min(found, key=lambda element_id: (found[element_id], element_id))


def graph_shape(graph: Graph | SharedGraph) -> tuple[dict[int, frozenset[tuple[int, tuple[str, int]]]], dict, dict,
                                                     dict[int, tuple[bool, bool]]]:
    """What traces depend on, independent of list order and of nodes left without edges: each node's
    neighbours and edges, each closed edge's ends, the open switches, and which nodes are infeeds and
    substation nodes. Two graphs trace alike when their shapes are equal (`==` shows what differs)."""
    edges = graph.closed_edges()
    nodes = {n for ends in edges.values() for n in ends}
    adjacency = {node: frozenset((n, (str(t), i)) for n, (t, i) in graph.neighbours(node)) for node in nodes}
    flags = {node: (graph.is_source(node), graph.is_substation(node)) for node in nodes}
    return adjacency, {(str(t), i): ends for (t, i), ends in edges.items()}, dict(graph.open_switches), flags
