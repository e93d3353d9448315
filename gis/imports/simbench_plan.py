"""Turning a SimBench selection into staging rows: derived attributes, sources, 台区 and skip counts.

Pure Python, no database. `plan_import` yields the rows (tuples in the column order of
`gis.imports.simbench_sql.STAGING`) and counts what was skipped and why. See `gis.imports.simbench`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from gis.imports.simbench_model import Dataset, Node, Selection
from gis.network.line_defaults import default_spread_m

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
MAPPING_RULES_PATH = DATA_DIR / "simbench_mapping.json"
LV_VOLT_LEVEL = "7"          # SimBench voltLvl: 1 EHV, 3 HV, 5 MV, 7 LV (even numbers: transformation levels)
_FEEDER = re.compile(r"_Feeder\d+$")


@dataclass(frozen=True)
class MappingRules:
    """Thresholds used to classify SimBench elements; values and their sources are in
    gis/data/simbench_mapping.json."""

    distribution_transformer_max_lv_kv: float
    tower_min_kv: float
    key_account_min_kw: float


@lru_cache(maxsize=1)
def mapping_rules() -> MappingRules:
    entries = json.loads(MAPPING_RULES_PATH.read_text(encoding="utf-8"))
    return MappingRules(**{name: float(entry["value"]) for name, entry in entries.items()})


def customer_category(profile: str) -> str:
    if profile.startswith("H0"):
        return "residential"
    if profile.startswith("G"):
        return "commercial"
    if profile.startswith("L"):
        return "agricultural"
    return "other"


def _sha(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()  # an identifier


def account_number(load_id: str) -> str:
    return "SB" + _sha(load_id)[:10].upper()


def meter_number(load_id: str) -> str:
    return "M" + _sha("meter:" + load_id)[:10].upper()


def synthetic_phone(load_id: str) -> str:
    """A made-up, deterministic number (+49 30 555xxxx); SimBench has no contact data."""
    return f"+49 30 555{int(_sha('phone:' + load_id)[:8], 16) % 10000:04d}"


def represented_grid(subnet: str) -> str | None:
    """`A_B_eq` ("grid B as seen from A") -> `B`; None when the subnet does not follow that pattern."""
    if not subnet.endswith("_eq"):
        return None
    parts = subnet[: -len("_eq")].split("_")
    return parts[-1] if len(parts) >= 2 else None


@dataclass(slots=True)
class Plan:
    """Everything to load, as plain tuples in staging-table column order, and the skip counts."""

    substations: list[tuple] = field(default_factory=list)
    substation_points: list[tuple] = field(default_factory=list)
    nodes: list[tuple] = field(default_factory=list)
    transformers: list[tuple] = field(default_factory=list)
    lines: list[tuple] = field(default_factory=list)
    poles: list[tuple] = field(default_factory=list)
    switches: list[tuple] = field(default_factory=list)
    customers: list[tuple] = field(default_factory=list)
    overhead_lines: int = 0
    cables: int = 0
    sources: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    components_without_source: int = 0
    customers_without_transformer: int = 0


def plan_import(data: Dataset, sel: Selection) -> Plan:
    rules = mapping_rules()
    plan = Plan()
    nodes = data.nodes
    skipped = dict.fromkeys(("substations", "lines", "transformers", "switches", "unlocated_loads",
                             "non_lv_loads", "equivalent_loads"), 0)

    def located(node_id: str | None) -> bool:
        node = nodes.get(node_id or "")
        return node is not None and node.x is not None and node_id in sel.node_ids

    # Substations: those referenced by imported elements (all listed ones on a full import); the
    # point is the centroid of ALL their located nodes in the data set so it is selection-independent.
    wanted: set[str] = {sub for n in sel.node_ids if (sub := nodes[n].substation)}
    wanted |= {e.substation for e in (*sel.transformers, *sel.switches) if e.substation}
    if sel.complete:
        wanted |= set(data.substations)
    members: dict[str, list[Node]] = {}
    for node in nodes.values():
        if node.substation is not None and node.substation in wanted and node.x is not None:
            members.setdefault(node.substation, []).append(node)
    for sub_id in sorted(wanted):
        if sub_id not in members:
            skipped["substations"] += 1
            continue
        plan.substations.append((sub_id, data.substations.get(sub_id)))
        plan.substation_points.extend((sub_id, n.x, n.y, n.vm_kv) for n in members[sub_id])
    imported_subs = {row[0] for row in plan.substations}

    def substation(sub_id: str | None) -> str | None:
        return sub_id if sub_id in imported_subs else None

    # Sources: an external grid equivalent is an infeed when the grid it stands for is not imported.
    # EHV equivalents (voltLvl 1) always are: nothing above EHV is in SimBench, so they represent the
    # interconnected transmission grid outside the data set. Boundary nodes are infeeds too: the
    # selection is closed downwards, so a node outside it is a busbar of a grid above that is not
    # imported (e.g. the HV busbar of the second HV/MV transformer of MV3.101, which has no equivalent).
    sources: set[str] = set(sel.boundary)
    for ext in data.external_nets:
        if ext.node not in sel.node_ids:
            continue
        grid = represented_grid(ext.subnet)
        if grid is None or grid not in sel.grids or ext.volt_lvl == "1":
            sources.add(ext.node)
    plan.sources = len(sources)

    for node_id in sorted(sel.node_ids):
        n = nodes[node_id]
        plan.nodes.append((n.id, n.type, n.vm_kv, n.subnet, substation(n.substation), n.x, n.y, n.id in sources))

    # Edges used by topology below: only what is actually imported.
    adjacency: dict[str, list[str]] = {}

    def connect(a: str, b: str) -> None:
        adjacency.setdefault(a, []).append(b)
        adjacency.setdefault(b, []).append(a)

    distribution: list[tuple[str, str]] = []  # (transformer id, LV node id)
    transformer_links: list[tuple[str, str]] = []
    for t in sel.transformers:
        s_mva, hv_kv, lv_kv = data.transformer_types[t.type]
        if not (located(t.b) or located(t.a)):
            skipped["transformers"] += 1
            continue
        plan.transformers.append((t.id, t.type, s_mva * 1000.0, hv_kv, lv_kv, t.subnet, substation(t.substation),
                                  t.a if t.a in sel.node_ids else None, t.b if t.b in sel.node_ids else None))
        transformer_links.append((t.a, t.b))
        if lv_kv < rules.distribution_transformer_max_lv_kv and t.b in sel.node_ids:
            distribution.append((t.id, t.b))

    pole_nodes: set[Node] = set()
    for line in sel.lines:
        end_a, end_b = nodes.get(line.a), nodes.get(line.b)
        if end_a is None or end_b is None or not (located(line.a) and located(line.b)) \
                or (end_a.x, end_a.y) == (end_b.x, end_b.y):
            skipped["lines"] += 1
            continue
        overhead = data.line_types.get(line.type) == "ohl"
        spread = default_spread_m(end_a.vm_kv) if overhead else None
        plan.lines.append((line.id, "overhead" if overhead else "cable", end_a.vm_kv, line.type, spread,
                           spread is not None, line.subnet if _FEEDER.search(line.subnet) else None,
                           line.subnet, line.a, line.b))
        connect(line.a, line.b)
        if overhead:
            plan.overhead_lines += 1
            pole_nodes.update(n for n in (end_a, end_b) if n.substation is None)
        else:
            plan.cables += 1
    for n in sorted(pole_nodes, key=lambda node: node.id):
        kind = "tower" if n.vm_kv >= rules.tower_min_kv else "pole"
        plan.poles.append((f"pole:{n.id}", kind, n.vm_kv, n.id, n.subnet))

    for s in sel.switches:
        if not (located(s.a) or located(s.b)):
            skipped["switches"] += 1
            continue
        node_a = nodes.get(s.a)
        plan.switches.append((s.id, s.type, not s.closed, node_a.vm_kv if node_a else None, s.subnet, substation(s.substation),
                              s.a if s.a in sel.node_ids else None, s.b if s.b in sel.node_ids else None))
        if s.closed and s.a in sel.node_ids and s.b in sel.node_ids:
            connect(s.a, s.b)

    feeding = supply_areas(adjacency, distribution)

    customer_nodes: set[str] = set()
    for ld in sel.loads:
        if "_eq" in ld.subnet:
            skipped["equivalent_loads"] += 1
            continue
        load_node = nodes.get(ld.node)
        if load_node is None or load_node.volt_lvl != LV_VOLT_LEVEL:
            skipped["non_lv_loads"] += 1
            continue
        if not located(ld.node):
            skipped["unlocated_loads"] += 1
            continue
        kw = ld.p_mw * 1000.0
        category = customer_category(ld.profile)
        transformer = feeding.get(ld.node)
        if transformer is None:
            plan.customers_without_transformer += 1
        plan.customers.append((ld.id, account_number(ld.id), meter_number(ld.id), ld.id, category,
                               category == "commercial" and kw >= rules.key_account_min_kw, kw,
                               synthetic_phone(ld.id), ld.subnet, ld.node, transformer))
        customer_nodes.add(ld.node)

    for a, b in transformer_links:
        if a in sel.node_ids and b in sel.node_ids:
            connect(a, b)
    plan.components_without_source = _components_without_source(adjacency, customer_nodes, sources)
    plan.skipped = skipped
    return plan


def supply_areas(adjacency: dict[str, list[str]], distribution: list[tuple[str, str]]) -> dict[str, str]:
    """台区: node -> distribution transformer, by one breadth-first search from all LV sides at once.

    Edges are lines and closed switches only, so a search never passes through a transformer. Where
    two transformers reach the same node (a meshed LV grid with a closed tie) the nearer one in hops
    wins, ties going to the transformer id that sorts first.
    """
    owner: dict[str, str] = {}
    queue: deque[str] = deque()
    for transformer_id, lv_node in sorted(distribution):
        if lv_node not in owner:
            owner[lv_node] = transformer_id
            queue.append(lv_node)
    while queue:
        node = queue.popleft()
        for nxt in adjacency.get(node, ()):
            if nxt not in owner:
                owner[nxt] = owner[node]
                queue.append(nxt)
    return owner


def _components_without_source(adjacency: dict[str, list[str]], customer_nodes: set[str], sources: set[str]) -> int:
    seen: set[str] = set()
    missing = 0
    for start in customer_nodes:
        if start in seen:
            continue
        seen.add(start)
        stack, has_source = [start], False
        while stack:
            node = stack.pop()
            has_source = has_source or node in sources
            for nxt in adjacency.get(node, ()):
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        missing += not has_source
    return missing
