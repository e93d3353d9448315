"""SimBench CSV data in memory: reading the files and selecting what a `subnet` prefix imports.

Pure Python, no database: `read_dataset` parses the CSV files the import needs (never the *Profile
files) and `select` decides which elements a prefix imports. `gis.imports.simbench_plan` turns the
selection into rows. See `gis.imports.simbench` for the rules.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

# --------------------------------------------------------------------------------------- reading

@dataclass(frozen=True, slots=True)
class Node:
    id: str
    type: str
    vm_kv: float
    substation: str | None
    x: float | None
    y: float | None
    subnet: str
    volt_lvl: str


@dataclass(frozen=True, slots=True)
class Edge:
    """A line, switch or transformer row: what selection and topology need from all three."""

    id: str
    a: str              # nodeA (lines, switches) or nodeHV (transformers)
    b: str              # nodeB or nodeLV
    type: str
    subnet: str
    substation: str | None = None
    closed: bool = True  # switches: cond == 1


@dataclass(frozen=True, slots=True)
class Load:
    id: str
    node: str
    profile: str
    p_mw: float
    subnet: str


@dataclass(frozen=True, slots=True)
class ExternalNet:
    id: str
    node: str
    subnet: str
    volt_lvl: str


@dataclass(slots=True)
class Dataset:
    nodes: dict[str, Node]
    lines: list[Edge]
    line_types: dict[str, str]                              # id -> "ohl" | "cable"
    transformers: list[Edge]
    transformer_types: dict[str, tuple[float, float, float]]  # id -> (sR MVA, vmHV kV, vmLV kV)
    switches: list[Edge]
    loads: list[Load]
    substations: dict[str, str | None]                      # id -> subnet
    external_nets: list[ExternalNet]


def _rows(directory: Path, name: str) -> tuple[dict[str, int], list[list[str]]]:
    """Column positions and the data rows of one `;`-separated SimBench CSV file."""
    with open(directory / f"{name}.csv", newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle, delimiter=";")
        header = next(reader)
        return {column: i for i, column in enumerate(header)}, list(reader)


def _null(value: str) -> str | None:
    return None if value in ("", "NULL", "NaN", "nan") else value


def _float(value: str) -> float | None:
    text = _null(value)
    return None if text is None else float(text)


def read_dataset(directory: Path) -> Dataset:
    """Read the CSV files of one SimBench data set (`;`-separated, as shipped in the package)."""
    col, reader = _rows(directory, "Coordinates")
    coords = {r[col["id"]]: (float(r[col["x"]]), float(r[col["y"]])) for r in reader}

    col, reader = _rows(directory, "Node")
    nodes: dict[str, Node] = {}
    for r in reader:
        xy = coords.get(_null(r[col["coordID"]]) or "")
        nodes[r[col["id"]]] = Node(
            id=r[col["id"]], type=r[col["type"]], vm_kv=float(r[col["vmR"]]),
            substation=_null(r[col["substation"]]), x=xy[0] if xy else None, y=xy[1] if xy else None,
            subnet=r[col["subnet"]], volt_lvl=r[col["voltLvl"]])

    col, reader = _rows(directory, "LineType")
    line_types = {r[col["id"]]: r[col["type"]].strip().lower() for r in reader}
    col, reader = _rows(directory, "Line")
    lines = [Edge(r[col["id"]], r[col["nodeA"]], r[col["nodeB"]], r[col["type"]], r[col["subnet"]])
             for r in reader]

    col, reader = _rows(directory, "TransformerType")
    transformer_types = {r[col["id"]]: (float(r[col["sR"]]), float(r[col["vmHV"]]), float(r[col["vmLV"]]))
                         for r in reader}
    col, reader = _rows(directory, "Transformer")
    transformers = [Edge(r[col["id"]], r[col["nodeHV"]], r[col["nodeLV"]], r[col["type"]], r[col["subnet"]],
                         _null(r[col["substation"]])) for r in reader]

    col, reader = _rows(directory, "Switch")
    switches = [Edge(r[col["id"]], r[col["nodeA"]], r[col["nodeB"]], r[col["type"]], r[col["subnet"]],
                     _null(r[col["substation"]]), closed=(r[col["cond"]].strip() == "1")) for r in reader]

    col, reader = _rows(directory, "Load")
    loads = [Load(r[col["id"]], r[col["node"]], r[col["profile"]], _float(r[col["pLoad"]]) or 0.0,
                  r[col["subnet"]]) for r in reader]

    col, reader = _rows(directory, "Substation")
    substations = {r[col["id"]]: _null(r[col["subnet"]]) for r in reader}

    externals: list[ExternalNet] = []
    if (directory / "ExternalNet.csv").exists():
        col, reader = _rows(directory, "ExternalNet")
        externals = [ExternalNet(r[col["id"]], r[col["node"]], r[col["subnet"]], r[col["voltLvl"]])
                     for r in reader]
    return Dataset(nodes, lines, line_types, transformers, transformer_types, switches, loads,
                   substations, externals)


# ------------------------------------------------------------------------------------- selection

def grid_of(subnet: str) -> str:
    """The grid an element belongs to: `MV1.101_Feeder6` -> `MV1.101`, `HV1_MV1.101` -> `HV1`."""
    return subnet.split("_", 1)[0]


@dataclass(slots=True)
class Selection:
    grids: set[str]            # grids whose elements are imported (not counting boundary nodes)
    node_ids: set[str]         # selected nodes plus the boundary nodes edges refer to
    lines: list[Edge]
    transformers: list[Edge]
    switches: list[Edge]
    loads: list[Load]
    complete: bool = False     # the whole data set (no prefix)
    boundary: set[str] = field(default_factory=set)  # nodes outside the selected grids that edges refer to


def select(data: Dataset, prefix: str | None) -> Selection:
    """Elements whose subnet starts with `prefix`, plus every grid fed from them, plus boundary nodes.

    A grid is fed from the selection when one of its transformers hangs on a selected node, directly
    or across one switch (SimBench puts the MV/LV transformer and the switch in front of it into the
    LV grid: `MV1.101 Bus 4` -(switch)- `MV1.101 Bus 4_1` -(transformer)- `LV1.101 ...`). This is
    repeated until nothing new is fed. `None` selects everything.
    """
    if prefix is None:
        grids = {grid_of(n.subnet) for n in data.nodes.values()}
        return Selection(grids, set(data.nodes), list(data.lines), list(data.transformers),
                         list(data.switches), list(data.loads), complete=True)

    fed: set[str] = set()

    def chosen(subnet: str) -> bool:
        return subnet.startswith(prefix) or grid_of(subnet) in fed

    switch_neighbours: dict[str, list[str]] = {}
    for s in data.switches:
        switch_neighbours.setdefault(s.a, []).append(s.b)
        switch_neighbours.setdefault(s.b, []).append(s.a)
    while True:
        selected = {n.id for n in data.nodes.values() if chosen(n.subnet)}
        new: set[str] = set()
        for t in data.transformers:
            if chosen(t.subnet):
                continue
            if t.a in selected or any(n in selected for n in switch_neighbours.get(t.a, ())):
                new.add(grid_of(t.subnet))
                if t.b in data.nodes:
                    new.add(grid_of(data.nodes[t.b].subnet))
        if new <= fed:
            break
        fed |= new

    lines = [e for e in data.lines if chosen(e.subnet)]
    transformers = [e for e in data.transformers if chosen(e.subnet)]
    switches = [e for e in data.switches if chosen(e.subnet)]
    chosen_nodes = {n.id for n in data.nodes.values() if chosen(n.subnet)}
    node_ids = set(chosen_nodes)
    grids = {grid_of(n.subnet) for n in data.nodes.values() if chosen(n.subnet)}
    for e in (*lines, *transformers, *switches):
        node_ids.update(n for n in (e.a, e.b) if n in data.nodes)
    loads = [ld for ld in data.loads if chosen(ld.subnet)]
    return Selection(grids, node_ids, lines, transformers, switches, loads, boundary=node_ids - chosen_nodes)
