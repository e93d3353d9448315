"""Connectivity traces: what loses supply when an element is out, and how a customer is fed.

The graph (nodes and the line, switch and transformer edges of the `network_edges` view, open
switches left out) is held in memory per process and kept in step with `topology_state.revision`,
which every topology-changing write bumps in its own transaction. A write through the API also
names the elements it touched in `topology_changes`; a cached graph then patches just those edges
(a switch toggle costs milliseconds, not a reload of the whole network). When any revision since
the cached one is not logged (an import, a pruned log, a reset database) the graph is reloaded.

Downstream of an element = the part of the network that no longer reaches a grid infeed
(`network_nodes.is_source`) once the element is removed, with the switches as they stand. This is
the outage definition of DOMAIN.md section 2 and also correct for meshed parts: an element fed from
both sides has nothing downstream.
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import Connection, delete, insert, select, text, update
from sqlalchemy.orm import Session

from gis.network.models import TopologyChange, TopologyState

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


def bump_revision(db: Session | Connection, *, changed: Iterable[Edge] | None = None) -> int:
    """Every write that changes connectivity calls this in its own transaction; returns the new revision.

    `changed` names the elements whose edges may differ now, as (`network_edges` type, id): cached
    graphs re-read just those. None means "unknown" (an import): every cached graph reloads.
    The revision row is locked until commit, so revisions are numbered in commit order.
    """
    revision, keep = db.execute(
        update(TopologyState).where(TopologyState.id == 1).values(revision=TopologyState.revision + 1)
        .returning(TopologyState.revision, TopologyState.change_log_keep)).one()
    if changed is not None:
        elements = sorted(set(changed))
        db.execute(insert(TopologyChange).values(revision=revision, element_types=[t for t, _ in elements],
                                                 element_ids=[i for _, i in elements]))
        db.execute(delete(TopologyChange).where(TopologyChange.revision <= revision - keep))
    return int(revision)


_EDGES = "SELECT edge_type, edge_id, source, target, is_open FROM network_edges"
# The named elements' current edges; each branch of the view is searched by its primary key.
_EDGES_OF = text(_EDGES + """
 WHERE (edge_type = 'line' AND edge_id = ANY(:line_ids))
    OR (edge_type = 'switch' AND edge_id = ANY(:switch_ids))
    OR (edge_type = 'transformer' AND edge_id = ANY(:transformer_ids))""")


def load_graph(db: Session) -> Graph:
    revision = current_revision(db)
    adjacency: dict[int, list[tuple[int, Edge]]] = defaultdict(list)
    edge_ends: dict[Edge, tuple[int, int]] = {}
    open_switches: dict[int, tuple[int, int]] = {}
    for edge_type, edge_id, a, b, is_open in db.execute(text(_EDGES)):
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


def patched_graph(db: Session, graph: Graph, revision: int) -> Graph | None:
    """`graph` brought to `revision` by re-reading the elements the revisions since named; None
    when a revision in between is not logged (the caller then reloads).

    Returns a new Graph and leaves `graph` untouched: traces running on it in other threads keep a
    consistent picture. Only the adjacency lists of the touched nodes are copied.
    Elements are re-read as they stand now (possibly newer than `revision`); that is safe because
    a later revision naming them is applied the same way.
    """
    logged = db.execute(select(TopologyChange.element_types, TopologyChange.element_ids)
                        .where(TopologyChange.revision > graph.revision, TopologyChange.revision <= revision)).all()
    if len(logged) != revision - graph.revision:
        return None
    touched: set[Edge] = {(t, i) for types, ids in logged for t, i in zip(types, ids, strict=True)}
    ids = {kind: [i for t, i in touched if t == kind] for kind in ElementType}
    now = db.execute(_EDGES_OF, {"line_ids": ids[ElementType.line], "switch_ids": ids[ElementType.switch],
                                 "transformer_ids": ids[ElementType.transformer]}).all()
    adjacency = dict(graph.adjacency)
    edge_ends = dict(graph.edge_ends)
    open_switches = dict(graph.open_switches)
    copied: set[int] = set()

    def own_list(node: int) -> list[tuple[int, Edge]]:
        if node not in copied:
            adjacency[node] = list(adjacency.get(node, ()))
            copied.add(node)
        return adjacency[node]

    for edge in touched:
        ends = edge_ends.pop(edge, None)
        if ends is not None:
            for node in ends:
                own_list(node)[:] = [entry for entry in adjacency[node] if entry[1] != edge]
        if edge[0] == ElementType.switch:
            open_switches.pop(edge[1], None)
    for edge_type, edge_id, a, b, is_open in now:
        if is_open:
            open_switches[edge_id] = (a, b)
            continue
        edge = (edge_type, edge_id)
        edge_ends[edge] = (a, b)
        own_list(a).append((b, edge))
        own_list(b).append((a, edge))
    return Graph(revision, adjacency, edge_ends, open_switches, graph.sources, graph.substation_nodes)


class GraphCache:
    """One graph per process, kept at the database's topology revision: patched when the revisions
    since are logged, reloaded otherwise. `full_loads` and `patches` count what it did."""

    def __init__(self) -> None:
        self._graph: Graph | None = None
        self._lock = threading.Lock()
        self.full_loads = 0
        self.patches = 0

    def get(self, db: Session) -> Graph:
        revision = current_revision(db)
        graph = self._graph
        if graph is not None and graph.revision == revision:
            return graph
        with self._lock:
            graph = self._graph
            if graph is not None and graph.revision != revision:
                # Another thread may have moved the graph on meanwhile: ask again before any work.
                revision = current_revision(db)
            if graph is not None and graph.revision == revision:
                return graph
            patched = patched_graph(db, graph, revision) if graph is not None and graph.revision < revision else None
            if patched is not None:
                self.patches += 1
                self._graph = patched
            else:
                self.full_loads += 1
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
