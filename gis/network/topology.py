"""Connectivity traces: what loses supply when an element is out, and how a customer is fed.

The graph (nodes and the line, switch and transformer edges of the `network_edges` view, open
switches left out) is kept in step with `topology_state.revision`, which every topology-changing
write bumps in its own transaction. A write through the API also names the elements it touched in
`topology_changes`.

The graph is shared, not loaded per process: a snapshot of one revision is written once as flat
arrays (compressed-sparse-row adjacency indexed by node id, plus each edge type's ends sorted by
id) into a directory of this machine (`GW_TOPOLOGY_SNAPSHOT_DIR`), and every process maps those
files read-only. The kernel keeps one copy in its page cache for all processes and a trace touches
only the pages of the nodes it walks, so a fresh process traces at once and holds megabytes, not the
province (at 10x SimBench a per-process dict graph took 7.85 s to load and 688 MB). Revisions logged
since the snapshot are applied as a small per-process overlay (the touched edges re-read, a switch
toggle costs milliseconds); a revision that is not logged (an import, a pruned log, a reset
database) makes the next trace write a new snapshot, once for all processes (a file lock).

Downstream of an element = the part of the network that no longer reaches a grid infeed
(`network_nodes.is_source`) once the element is removed, with the switches as they stand. This is
the outage definition of DOMAIN.md section 2 and also correct for meshed parts: an element fed from
both sides has nothing downstream.
"""

from __future__ import annotations

import fcntl
import json
import mmap
import os
import shutil
import tempfile
import threading
from bisect import bisect_left
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import chain
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Connection, Engine, delete, insert, select, text, update
from sqlalchemy.orm import Session

from gis.network.models import TopologyChange, TopologyState

Edge = tuple[str, int]  # (edge_type, edge_id)


class ElementType(StrEnum):
    line = "line"
    switch = "switch"
    transformer = "transformer"


EDGE_TYPES: tuple[ElementType, ...] = (ElementType.line, ElementType.switch, ElementType.transformer)
_TYPE_NAMES = tuple(str(t) for t in EDGE_TYPES)
_SOURCE, _SUBSTATION = 1, 2  # bits of a node's flag byte in a snapshot


class GraphView(Protocol):
    """What the traces need of a graph; the shared snapshot and the plain dict graph both provide it."""

    @property
    def revision(self) -> int: ...

    @property
    def open_switches(self) -> Mapping[int, tuple[int, int]]: ...

    def neighbours(self, node: int) -> Iterable[tuple[int, Edge]]: ...

    def ends(self, edge: Edge) -> tuple[int, int] | None: ...

    def is_source(self, node: int) -> bool: ...

    def is_substation(self, node: int) -> bool: ...


class GraphSource(Protocol):
    """Gives the graph at the database's current revision (`GraphCache`, or a fixed graph in tools)."""

    def get(self, db: Session) -> GraphView: ...


@dataclass
class Graph:
    """The whole graph as Python dicts, loaded in full (`load_graph`): the reference the shared graph
    is checked against, and what small tools use. Not what the API holds (see the module docstring)."""

    revision: int
    adjacency: dict[int, list[tuple[int, Edge]]]
    edge_ends: dict[Edge, tuple[int, int]]
    open_switches: dict[int, tuple[int, int]]
    sources: frozenset[int]
    substation_nodes: frozenset[int]

    def neighbours(self, node: int) -> Iterable[tuple[int, Edge]]:
        return self.adjacency.get(node, ())

    def ends(self, edge: Edge) -> tuple[int, int] | None:
        return self.edge_ends.get(edge)

    def is_source(self, node: int) -> bool:
        return node in self.sources

    def is_substation(self, node: int) -> bool:
        return node in self.substation_nodes

    def closed_edges(self) -> dict[Edge, tuple[int, int]]:
        return dict(self.edge_ends)


def current_revision(db: Session | Connection) -> int:
    return db.scalar(select(TopologyState.revision).where(TopologyState.id == 1)) or 0


def bump_revision(db: Session | Connection, *, changed: Iterable[Edge] | None = None) -> int:
    """Every write that changes connectivity calls this in its own transaction; returns the new revision.

    `changed` names the elements whose edges may differ now, as (`network_edges` type, id): graphs
    re-read just those. None means "unknown" (an import): the next trace writes a new snapshot.
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
_SOURCES = text("SELECT id FROM network_nodes WHERE is_source")
_SUBSTATION_NODES = text("SELECT id FROM network_nodes WHERE substation_id IS NOT NULL")


def load_graph(db: Session) -> Graph:
    """The whole graph as dicts in this process (seconds and hundreds of MB at provincial scale)."""
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
    sources = frozenset(db.scalars(_SOURCES))
    substation_nodes = frozenset(db.scalars(_SUBSTATION_NODES))
    return Graph(revision, dict(adjacency), edge_ends, open_switches, sources, substation_nodes)


class TopologySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GW_TOPOLOGY_", extra="ignore")

    snapshot_dir: Path | None = Field(default=None, description=(
        "Where graph snapshots are written and mapped by every process of this machine (one "
        "sub-directory per database). Default: gridwarden-topology-<uid> in the system temp directory, "
        "mode 0700. A deployment points it at local disk (or tmpfs) shared by the API processes."))

    def directory(self) -> Path:
        base = self.snapshot_dir or Path(tempfile.gettempdir()) / f"gridwarden-topology-{os.getuid()}"
        base.mkdir(mode=0o700, parents=True, exist_ok=True)
        if base.stat().st_uid != os.getuid():
            # Another user's directory could hand this process a forged graph: refuse, as ssh does.
            raise PermissionError(f"topology snapshot directory {base} belongs to another user")
        return base


IntCode = Literal["q", "b", "B"]  # int64, int8, uint8 as `memoryview.cast` and numpy name them
_ARRAYS: dict[str, IntCode] = {"indptr": "q", "neighbour": "q", "edge_id": "q", "edge_type": "b", "flags": "B",
           **{f"{t}_{part}": "q" for t in EDGE_TYPES for part in ("id", "a", "b")}}


class Snapshot:
    """One revision's closed edges, mapped read-only from the files `write_snapshot` made.

    Adjacency is compressed sparse rows indexed by node id: the entries of node n are
    `indptr[n]:indptr[n + 1]` of `neighbour`, `edge_type`, `edge_id`. Each edge type's (id, a, b)
    are sorted by id, so an element's ends are a binary search away.
    """

    def __init__(self, path: Path) -> None:
        meta = json.loads((path / "meta.json").read_text())
        self.path = path
        self.revision: int = meta["revision"]
        self.open_switches: dict[int, tuple[int, int]] = {int(k): (a, b) for k, (a, b) in meta["open_switches"].items()}
        self._maps: list[mmap.mmap] = []
        views: dict[str, memoryview[int]] = {}
        for name, code in _ARRAYS.items():
            with open(path / name, "rb") as handle:
                if os.fstat(handle.fileno()).st_size == 0:
                    views[name] = memoryview(b"").cast(code)
                    continue
                mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            self._maps.append(mapped)
            views[name] = memoryview(mapped).cast(code)
        self.indptr, self.neighbour, self.edge_id = views["indptr"], views["neighbour"], views["edge_id"]
        self.edge_type, self.flags = views["edge_type"], views["flags"]
        self.by_type = {str(t): (views[f"{t}_id"], views[f"{t}_a"], views[f"{t}_b"]) for t in EDGE_TYPES}

    def entries(self, node: int) -> list[tuple[int, Edge]]:
        """The node's (neighbour, edge) pairs, built by C-level zips: this is the traces' inner loop."""
        if not 0 <= node < len(self.indptr) - 1:
            return []
        start, end = self.indptr[node], self.indptr[node + 1]
        names = map(_TYPE_NAMES.__getitem__, self.edge_type[start:end].tolist())
        return list(zip(self.neighbour[start:end].tolist(), zip(names, self.edge_id[start:end].tolist())))

    def ends(self, edge: Edge) -> tuple[int, int] | None:
        ids, a, b = self.by_type[edge[0]]
        i = bisect_left(ids, edge[1])
        return (a[i], b[i]) if i < len(ids) and ids[i] == edge[1] else None

    def flag(self, node: int, bit: int) -> bool:
        return 0 <= node < len(self.flags) and bool(self.flags[node] & bit)


# One row of `COPY ... (FORMAT BINARY)` of five bigint columns: a field count, then per field its
# length and big-endian value (PostgreSQL docs, "COPY: Binary Format"). Fixed width, so numpy reads
# the stream as it is instead of Python building a million row objects.
_COPY_COLUMNS = 5
_COPY_ROW = np.dtype([("fields", ">i2")] + [(f"{kind}{i}", ">i4" if kind == "len" else ">i8")
                                             for i in range(_COPY_COLUMNS) for kind in ("len", "val")])
_COPY_HEADER = 19  # signature (11), flags (4), header extension length (4, zero)
_COPY_TRAILER = 2  # a field count of -1
_COPY_EDGES = ("COPY (SELECT CASE edge_type WHEN 'line' THEN 0 WHEN 'switch' THEN 1 ELSE 2 END::bigint, "
               "edge_id::bigint, source::bigint, target::bigint, is_open::int::bigint FROM network_edges) "
               "TO STDOUT (FORMAT BINARY)")


def _copy_edges(conn: Connection) -> np.ndarray:
    """Every edge of `network_edges` as an (n, 5) int64 array: type code, id, source, target, is_open."""
    raw = conn.connection.driver_connection
    if raw is None:
        raise RuntimeError("the connection was closed while writing a topology snapshot")
    buffer = bytearray()
    with raw.cursor() as cursor, cursor.copy(_COPY_EDGES) as copy:
        for block in copy:
            buffer += block
    body = np.frombuffer(buffer, dtype=_COPY_ROW, offset=_COPY_HEADER,
                         count=(len(buffer) - _COPY_HEADER - _COPY_TRAILER) // _COPY_ROW.itemsize)
    if len(body) and (body["fields"] != _COPY_COLUMNS).any():
        raise ValueError("unexpected COPY row layout")
    return np.stack([body[f"val{i}"].astype(np.int64) for i in range(_COPY_COLUMNS)], axis=1)


def write_snapshot(*, engine: Engine, directory: Path) -> Path:
    """Write the graph as it stands into `directory/r<revision>` and return that path.

    Revision and edges are read in one REPEATABLE READ transaction, so the snapshot is exactly that
    revision. Edges arrive as one binary COPY read straight into numpy; the files appear by one
    rename, so a reader sees a whole snapshot or none.
    """
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
        revision = current_revision(conn)
        target = directory / f"r{revision}"
        if target.is_dir():
            return target
        edges = _copy_edges(conn)
        sources = np.fromiter(conn.scalars(_SOURCES), dtype=np.int64)
        substations = np.fromiter(conn.scalars(_SUBSTATION_NODES), dtype=np.int64)
    is_open = edges[:, 4] == 1
    open_switches = {int(i): [int(a), int(b)] for _, i, a, b, _ in edges[is_open & (edges[:, 0] == 1)]}
    edges = edges[~is_open]
    code, ids, a, b = edges[:, 0], edges[:, 1], edges[:, 2], edges[:, 3]
    size = int(max(edges[:, 2:4].max(initial=-1), sources.max(initial=-1), substations.max(initial=-1))) + 1
    tail = np.concatenate([a, b])
    order = np.argsort(tail, kind="stable")
    arrays: dict[str, np.ndarray] = {
        "indptr": np.concatenate([[0], np.cumsum(np.bincount(tail, minlength=size))]).astype(np.int64),
        "neighbour": np.concatenate([b, a])[order], "edge_id": np.concatenate([ids, ids])[order],
        "edge_type": np.concatenate([code, code])[order].astype(np.int8)}
    flags = np.zeros(size, dtype=np.uint8)
    flags[sources] |= _SOURCE
    flags[substations] |= _SUBSTATION
    arrays["flags"] = flags
    for type_code, edge_type in enumerate(EDGE_TYPES):
        mine = code == type_code
        by_id = np.argsort(ids[mine], kind="stable")
        for part, column in (("id", ids), ("a", a), ("b", b)):
            arrays[f"{edge_type}_{part}"] = column[mine][by_id]
    staging = Path(tempfile.mkdtemp(prefix=f".r{revision}-", dir=directory))
    for name, code_char in _ARRAYS.items():
        arrays[name].astype(np.dtype(code_char)).tofile(staging / name)
    (staging / "meta.json").write_text(json.dumps({"revision": revision, "open_switches": open_switches,
                                                   "edges": len(edges), "node_slots": size}))
    try:
        staging.rename(target)
    except OSError:  # another writer was first: its snapshot of the same revision is as good
        shutil.rmtree(staging, ignore_errors=True)
    return target


@dataclass(frozen=True)
class SharedGraph:
    """A mapped snapshot plus this process's overlay of the edges touched since (logged revisions).

    Immutable: a newer revision is a new SharedGraph over the same snapshot, so traces running in
    other threads keep a consistent picture.
    """

    snapshot: Snapshot
    revision: int
    touched: frozenset[Edge] = frozenset()  # edges whose snapshot entries no longer count
    added: Mapping[int, tuple[tuple[int, Edge], ...]] = field(default_factory=dict)  # node -> closed touched edges
    added_ends: Mapping[Edge, tuple[int, int]] = field(default_factory=dict)
    open_switches: Mapping[int, tuple[int, int]] = field(default_factory=dict)

    @classmethod
    def of(cls, snapshot: Snapshot) -> SharedGraph:
        return cls(snapshot, snapshot.revision, open_switches=dict(snapshot.open_switches))

    def neighbours(self, node: int) -> Iterable[tuple[int, Edge]]:
        base: Iterable[tuple[int, Edge]] = self.snapshot.entries(node)
        if self.touched:
            base = [entry for entry in base if entry[1] not in self.touched]
        extra = self.added.get(node)
        return chain(base, extra) if extra else base

    def ends(self, edge: Edge) -> tuple[int, int] | None:
        if edge in self.touched:
            return self.added_ends.get(edge)
        return self.snapshot.ends(edge)

    def is_source(self, node: int) -> bool:
        return self.snapshot.flag(node, _SOURCE)

    def is_substation(self, node: int) -> bool:
        return self.snapshot.flag(node, _SUBSTATION)

    def closed_edges(self) -> dict[Edge, tuple[int, int]]:
        """Every closed edge with its ends (for checks; walks the whole snapshot)."""
        found: dict[Edge, tuple[int, int]] = {}
        for edge_type, (ids, a, b) in self.snapshot.by_type.items():
            for i, x, y in zip(ids.tolist(), a.tolist(), b.tolist(), strict=True):
                if (edge_type, i) not in self.touched:
                    found[(edge_type, i)] = (x, y)
        found.update(self.added_ends)
        return found


def patched_graph(db: Session, graph: SharedGraph, revision: int) -> SharedGraph | None:
    """`graph` brought to `revision` by re-reading the elements the revisions since named; None when
    a revision in between is not logged (the caller then opens or writes a newer snapshot).

    Elements are re-read as they stand now (possibly newer than `revision`); that is safe because
    a later revision naming them is applied the same way. The overlay holds every element touched
    since the snapshot (at most `topology_state.change_log_keep` revisions' worth).
    """
    logged = db.execute(select(TopologyChange.element_types, TopologyChange.element_ids)
                        .where(TopologyChange.revision > graph.revision, TopologyChange.revision <= revision)).all()
    if len(logged) != revision - graph.revision:
        return None
    new = {(t, i) for types, ids in logged for t, i in zip(types, ids, strict=True)}
    ids = {kind: [i for t, i in new if t == kind] for kind in ElementType}
    now = db.execute(_EDGES_OF, {"line_ids": ids[ElementType.line], "switch_ids": ids[ElementType.switch],
                                 "transformer_ids": ids[ElementType.transformer]}).all() if new else []
    open_switches = {i: ends for i, ends in graph.open_switches.items() if ("switch", i) not in new}
    added_ends = {edge: ends for edge, ends in graph.added_ends.items() if edge not in new}
    for edge_type, edge_id, a, b, is_open in now:
        if is_open:
            open_switches[edge_id] = (a, b)
        else:
            added_ends[(edge_type, edge_id)] = (a, b)
    added: dict[int, list[tuple[int, Edge]]] = defaultdict(list)
    for edge, (a, b) in added_ends.items():
        added[a].append((b, edge))
        added[b].append((a, edge))
    return SharedGraph(graph.snapshot, revision, graph.touched | new, {n: tuple(e) for n, e in added.items()},
                       added_ends, open_switches)


class GraphCache:
    """This process's view of the shared graph, kept at the database's topology revision: patched
    when the revisions since its snapshot are logged, a new snapshot otherwise (written by the first
    process to need it). `full_loads` counts snapshots this process opened (written or found),
    `patches` the revisions it caught up with by patching."""

    def __init__(self, settings: TopologySettings | None = None) -> None:
        self._graph: SharedGraph | None = None
        self._lock = threading.Lock()
        self._settings = settings or TopologySettings()
        self.full_loads = 0
        self.patches = 0

    def _directory(self, db: Session) -> Path:
        """This database's own snapshots: a re-created database (new oid) never reads an old one's."""
        name, oid = db.execute(text(
            "SELECT datname, oid FROM pg_database WHERE datname = current_database()")).one()
        port = db.scalar(text("SELECT coalesce(inet_server_port(), 0)"))
        path = self._settings.directory() / f"{port}-{name}-{oid}"
        path.mkdir(mode=0o700, exist_ok=True)
        return path

    def drop_snapshots(self, db: Session) -> None:
        """Remove this database's snapshots (benchmarks measure writing one)."""
        shutil.rmtree(self._directory(db), ignore_errors=True)

    def get(self, db: Session) -> SharedGraph:
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
            if graph is not None and graph.revision < revision:
                patched = patched_graph(db, graph, revision)
                if patched is not None:
                    self.patches += 1
                    self._graph = patched
                    return patched
            self._graph = self._open(db, revision)
            self.full_loads += 1
            return self._graph

    def _open(self, db: Session, revision: int) -> SharedGraph:
        """The newest snapshot this revision can be patched from, written first if there is none."""
        directory = self._directory(db)
        for path in sorted(_snapshots(directory), key=lambda p: -int(p.name[1:])):
            if int(path.name[1:]) > revision:
                continue
            try:
                graph = patched_graph(db, SharedGraph.of(Snapshot(path)), revision)
            except FileNotFoundError:  # superseded and removed by a writer just now
                graph = None
            if graph is not None:
                return graph
            break  # older snapshots are further away still
        with open(directory / "write.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one writer per machine; the others then find its snapshot
            bind = db.get_bind()
            engine = bind.engine if isinstance(bind, Connection) else bind
            path = write_snapshot(engine=engine, directory=directory)
            for old in _snapshots(directory):
                if old != path:  # processes mapping it keep their mapping (unlinked files live on)
                    shutil.rmtree(old, ignore_errors=True)
        graph = SharedGraph.of(Snapshot(path))
        return patched_graph(db, graph, revision) or graph if revision > graph.revision else graph


def _snapshots(directory: Path) -> list[Path]:
    return [p for p in directory.glob("r*") if p.is_dir() and p.name[1:].isdigit()]


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


def _step(graph: GraphView, side: _Side, removed: Edge) -> None:
    node = side.queue.popleft()
    if graph.is_source(node):
        side.fed = True
        return
    for neighbour, edge in graph.neighbours(node):
        if edge != removed and neighbour not in side.seen:
            side.seen.add(neighbour)
            side.queue.append(neighbour)


def _explore(graph: GraphView, side: _Side, removed: Edge) -> None:
    while not side.done:
        _step(graph, side, removed)


@dataclass(frozen=True)
class DownstreamNodes:
    nodes: frozenset[int]
    meshed: bool  # the element is fed from both sides: removing it cuts nobody off
    element_open: bool  # an open switch carries no load: nothing is downstream of it


def downstream_nodes(graph: GraphView, element: ElementType, element_id: int) -> DownstreamNodes | None:
    """Nodes that lose every path to an infeed when the element is removed; None if unknown element.

    Both sides are explored in lockstep so the work is bounded by the smaller of (the cut-off part,
    the distance to an infeed) instead of by the whole upstream grid.
    """
    removed: Edge = (str(element), element_id)
    if element is ElementType.switch and element_id in graph.open_switches:
        return DownstreamNodes(frozenset(), meshed=False, element_open=True)
    ends = graph.ends(removed)
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


def feed_path(graph: GraphView, start_node: int) -> tuple[list[FeedStep], int | None]:
    """Shortest path (by hops, honouring open switches) from a node up to the first substation node.

    In a radially operated network this is the one path that feeds the node. Returns the steps from
    the customer towards the substation and the substation node reached (None if none is reachable).
    """
    parents: dict[int, tuple[int, Edge] | None] = {start_node: None}
    queue = deque([start_node])
    reached: int | None = None
    while queue:
        node = queue.popleft()
        if graph.is_substation(node):
            reached = node
            break
        for neighbour, edge in graph.neighbours(node):
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
