"""Connectivity traces: what loses supply when an element is out, and how a customer is fed.

The graph (nodes and the line, switch and transformer edges of the `network_edges` view, open
switches left out) is held in memory per process and reloaded whenever `topology_state.revision`
moves, which every topology-changing write bumps in its own transaction.

Downstream of an element = the part of the network that no longer reaches a grid infeed
(`network_nodes.is_source`) once the element is removed, with the switches as they stand. This is
the outage definition of DOMAIN.md section 2 and also correct for meshed parts: an element fed from
both sides has nothing downstream.
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import Connection, select, text, update
from sqlalchemy.orm import Session

from gis.network.models import TopologyState

Edge = tuple[str, int]  # (edge_type, edge_id)


class ElementType(StrEnum):
    line = "line"
    switch = "switch"
    transformer = "transformer"


@dataclass
class Graph:
    revision: int
    adjacency: dict[int, list[tuple[int, Edge]]]
    edge_ends: dict[Edge, tuple[int, int]]
    open_switches: dict[int, tuple[int, int]]
    sources: frozenset[int]
    substation_nodes: frozenset[int]


def current_revision(db: Session | Connection) -> int:
    return db.scalar(select(TopologyState.revision).where(TopologyState.id == 1)) or 0


def bump_revision(db: Session | Connection) -> None:
    """Every write that changes connectivity calls this in its own transaction: cached graphs reload."""
    db.execute(update(TopologyState).where(TopologyState.id == 1).values(revision=TopologyState.revision + 1))


def load_graph(db: Session) -> Graph:
    revision = current_revision(db)
    adjacency: dict[int, list[tuple[int, Edge]]] = defaultdict(list)
    edge_ends: dict[Edge, tuple[int, int]] = {}
    open_switches: dict[int, tuple[int, int]] = {}
    for edge_type, edge_id, a, b, is_open in db.execute(
        text("SELECT edge_type, edge_id, source, target, is_open FROM network_edges")
    ):
        if is_open:
            open_switches[edge_id] = (a, b)
            continue
        edge = (edge_type, edge_id)
        edge_ends[edge] = (a, b)
        adjacency[a].append((b, edge))
        adjacency[b].append((a, edge))
    sources = frozenset(db.scalars(text("SELECT id FROM network_nodes WHERE is_source")))
    substation_nodes = frozenset(db.scalars(text("SELECT id FROM network_nodes WHERE substation_id IS NOT NULL")))
    return Graph(revision, dict(adjacency), edge_ends, open_switches, sources, substation_nodes)


class GraphCache:
    """One graph per process, reloaded when the database says topology changed."""

    def __init__(self) -> None:
        self._graph: Graph | None = None
        self._lock = threading.Lock()

    def get(self, db: Session) -> Graph:
        revision = current_revision(db)
        graph = self._graph
        if graph is not None and graph.revision == revision:
            return graph
        with self._lock:
            if self._graph is None or self._graph.revision != revision:
                self._graph = load_graph(db)
            return self._graph


@dataclass
class _Side:
    start: int
    seen: set[int] = field(default_factory=set)
    queue: deque[int] = field(default_factory=deque)
    fed: bool = False

    def __post_init__(self) -> None:
        self.seen.add(self.start)
        self.queue.append(self.start)

    @property
    def done(self) -> bool:
        """Reached an infeed, or explored everything it can reach."""
        return self.fed or not self.queue


def _step(graph: Graph, side: _Side, removed: Edge) -> None:
    node = side.queue.popleft()
    if node in graph.sources:
        side.fed = True
        return
    for neighbour, edge in graph.adjacency.get(node, ()):
        if edge != removed and neighbour not in side.seen:
            side.seen.add(neighbour)
            side.queue.append(neighbour)


def _explore(graph: Graph, side: _Side, removed: Edge) -> None:
    while not side.done:
        _step(graph, side, removed)


@dataclass(frozen=True)
class DownstreamNodes:
    nodes: frozenset[int]
    meshed: bool  # the element is fed from both sides: removing it cuts nobody off
    element_open: bool  # an open switch carries no load: nothing is downstream of it


def downstream_nodes(graph: Graph, element: ElementType, element_id: int) -> DownstreamNodes | None:
    """Nodes that lose every path to an infeed when the element is removed; None if unknown element.

    Both sides are explored in lockstep so the work is bounded by the smaller of (the cut-off part,
    the distance to an infeed) instead of by the whole upstream grid.
    """
    removed: Edge = (str(element), element_id)
    if element is ElementType.switch and element_id in graph.open_switches:
        return DownstreamNodes(frozenset(), meshed=False, element_open=True)
    ends = graph.edge_ends.get(removed)
    if ends is None:
        return None
    a, b = _Side(ends[0]), _Side(ends[1])
    while not (a.done and b.done):
        for side in (a, b):
            if not side.done:
                _step(graph, side, removed)
        if b.start in a.seen or a.start in b.seen:
            # Still connected without the element: one component, fed or not as a whole.
            _explore(graph, a, removed)
            return DownstreamNodes(frozenset() if a.fed else frozenset(a.seen | b.seen), meshed=a.fed,
                                   element_open=False)
    cut = (set() if a.fed else a.seen) | (set() if b.fed else b.seen)
    return DownstreamNodes(frozenset(cut), meshed=a.fed and b.fed, element_open=False)


@dataclass(frozen=True)
class FeedStep:
    edge_type: str
    edge_id: int
    from_node: int
    to_node: int


def feed_path(graph: Graph, start_node: int) -> tuple[list[FeedStep], int | None]:
    """Shortest path (by hops, honouring open switches) from a node up to the first substation node.

    In a radially operated network this is the one path that feeds the node. Returns the steps from
    the customer towards the substation and the substation node reached (None if none is reachable).
    """
    parents: dict[int, tuple[int, Edge] | None] = {start_node: None}
    queue = deque([start_node])
    reached: int | None = None
    while queue:
        node = queue.popleft()
        if node in graph.substation_nodes:
            reached = node
            break
        for neighbour, edge in graph.adjacency.get(node, ()):
            if neighbour not in parents:
                parents[neighbour] = (node, edge)
                queue.append(neighbour)
    if reached is None:
        return [], None
    steps: list[FeedStep] = []
    node = reached
    while parents[node] is not None:
        previous, edge = parents[node]  # type: ignore[misc]
        steps.append(FeedStep(edge[0], edge[1], previous, node))
        node = previous
    steps.reverse()
    return steps, reached
