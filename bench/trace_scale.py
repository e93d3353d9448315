"""Trace graph at 1x and 10x the full SimBench network: first trace in a fresh API-like process,
p95 of 200 traces, resident memory after the first trace; the shared graph (`gis.network.topology`)
measured side by side with the per-process dict graph it replaced (`load_graph`), interleaved.

Run with `./gw bench trace_scale` (database `gridwarden_bench`): imports SimBench, measures 1x, then
copies the network 9 more times (each copy shifted by 10 degrees of longitude, ids offset by the
table's largest id, keys suffixed) and measures 10x. `--measure-only` measures what is there.
Each "first trace" runs in a fresh Python process (`--probe`), as an API process would start.
"""

from __future__ import annotations

import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.orm import Session

from bench.common import percentile, truncate_data
from core.context import Actor
from core.database import create_db_engine, create_session_factory
from core.settings import Settings
from gis.imports.simbench import default_source_dir, import_simbench
from gis.network import trace as trace_service
from gis.network.topology import ElementType, Graph, GraphCache, load_graph
from gis.network.trace_schemas import CustomerRef, ElementRef

COPIES = 9
SHIFT_DEG = 10.0
SAMPLES = 200
# Tables a trace reads, copied in foreign-key order; the columns that point at each copied table.
COPIED = ("substations", "network_nodes", "transformers", "lines", "switches", "customers")
REFERENCES = {"substation_id": "substations", "hv_node_id": "network_nodes", "lv_node_id": "network_nodes",
              "node_a_id": "network_nodes", "node_b_id": "network_nodes", "node_id": "network_nodes",
              "transformer_id": "transformers"}
KEYS = ("external_id", "account_number")


def _columns(conn: Connection, table: str) -> list[tuple[str, str]]:
    return [(name, udt) for name, udt in conn.execute(text(
        "SELECT column_name, udt_name FROM information_schema.columns WHERE table_schema = 'public' "
        "AND table_name = :t AND is_generated = 'NEVER' ORDER BY ordinal_position"), {"t": table})]


def expand(owner: Engine, copies: int = COPIES) -> None:
    """Copy the network `copies` more times in one transaction (INSERT ... SELECT, ST_Translate)."""
    with owner.begin() as conn:
        offsets = {t: int(conn.scalar(text(f'SELECT coalesce(max(id), 0) FROM "{t}"')) or 0) for t in COPIED}
        for k in range(1, copies + 1):
            for table in COPIED:
                names, values = [], []
                for name, udt in _columns(conn, table):
                    names.append(f'"{name}"')
                    if name == "id":
                        values.append(f"id + {k * offsets[table]}")
                    elif name in REFERENCES and REFERENCES[name] in offsets:
                        values.append(f'"{name}" + {k * offsets[REFERENCES[name]]}')
                    elif name in KEYS:
                        values.append(f"\"{name}\" || '~{k}'")
                    elif udt in ("geometry", "geography"):
                        values.append(f'ST_Translate("{name}"::geometry, {k * SHIFT_DEG}, 0)::{udt}')
                    else:
                        values.append(f'"{name}"')
                conn.execute(text(f'INSERT INTO "{table}" ({", ".join(names)}) SELECT {", ".join(values)} '
                                  f'FROM "{table}" WHERE id <= {offsets[table]}'))
        for table in COPIED:
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM \"{table}\"))"))
        conn.execute(text("UPDATE topology_state SET revision = revision + 1"))  # an import: unlogged
    with owner.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(
            text("VACUUM ANALYZE network_nodes, lines, switches, transformers, customers"))


def _rss_mb() -> float:
    """Resident memory now (VmRSS): shared snapshot pages a trace touched count in full here."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def probe(kind: str, element_id: int) -> None:
    """One fresh process: the first trace (graph included) and the peak RSS after it, as JSON."""
    settings = Settings()
    factory = create_session_factory(create_db_engine(settings.database))
    ref = ElementRef(type=ElementType.line, id=element_id)
    before = _rss_mb()
    started = time.perf_counter()
    with factory() as db:
        if kind == "old":
            graph = load_graph(db)
            result = trace_service.trace_downstream(db=db, cache=_Fixed(graph), element=ref)
        else:
            result = trace_service.trace_downstream(db=db, cache=GraphCache(), element=ref)
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "rss_mb": _rss_mb(), "rss_before_mb": before, "peak_mb": _peak_mb(),
                      "customers": result.customer_count}))


class _Fixed:
    """The old per-process graph, loaded once: the reference implementation."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph

    def get(self, db: Session) -> Graph:
        return self.graph


def _fresh(kind: str, element_id: int) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-m", "bench.trace_scale", "--probe", kind, str(element_id)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def measure(engine: Engine, label: str, rng: random.Random) -> None:
    with engine.connect() as conn:
        nodes = conn.scalar(text("SELECT count(*) FROM network_nodes"))
        heads = list(conn.execute(text(
            "SELECT DISTINCT ON (feeder, copy) id FROM (SELECT id, feeder, substring(external_id FROM '~[0-9]+$') "
            "AS copy FROM lines WHERE feeder IS NOT NULL AND deleted_at IS NULL AND node_a_id IS NOT NULL) AS l "
            "ORDER BY feeder, copy, id")).scalars())
        lines = list(conn.execute(text("SELECT id FROM lines WHERE deleted_at IS NULL AND node_a_id IS NOT NULL "
                                       "ORDER BY random() LIMIT 400")).scalars())
        accounts = list(conn.execute(text("SELECT account_number FROM customers WHERE node_id IS NOT NULL "
                                          "ORDER BY random() LIMIT 200")).scalars())
    print(f"--- {label}: {nodes} nodes, {len(heads)} feeder heads")
    with create_session_factory(engine)() as db:
        GraphCache().drop_snapshots(db)
    cold = _fresh("new", heads[0])
    warm = _fresh("new", heads[0])
    old = _fresh("old", heads[0])
    for name, probed in (("shared graph, this trace writes the snapshot (once per import)", cold),
                         ("shared graph, fresh process, snapshot there", warm),
                         ("old dict graph (reference), fresh process", old)):
        print(f"first trace, {name}: {probed['seconds']:.2f} s; RSS after {probed['rss_mb']:.0f} MB "
              f"(before {probed['rss_before_mb']:.0f} MB, peak {probed['peak_mb']:.0f} MB)")
    factory = create_session_factory(engine)
    new_cache = GraphCache()
    with factory() as db:
        old_cache = _Fixed(load_graph(db))
    samples = [("down", rng.choice(heads + lines)) for _ in range(SAMPLES // 2)] + \
              [("up", a) for a in accounts[:SAMPLES // 2]]
    rng.shuffle(samples)
    timings: dict[str, list[float]] = {"new": [], "old": []}
    for i, (direction, key) in enumerate(samples):
        answers = {}
        for kind in (("new", "old") if i % 2 else ("old", "new")):
            cache = new_cache if kind == "new" else old_cache
            with factory() as db:
                started = time.perf_counter()
                if direction == "down":
                    answer: object = trace_service.trace_downstream(
                        db=db, cache=cache, element=ElementRef(type=ElementType.line, id=int(key)))
                else:
                    answer = trace_service.trace_upstream(db=db, cache=cache,
                                                          customer=CustomerRef(account_number=str(key)))
                timings[kind].append((time.perf_counter() - started) * 1000)
            answers[kind] = answer
        assert answers["new"] == answers["old"], f"same answer for {direction} {key}"
    for kind, name in (("new", "shared graph"), ("old", "old dict graph (reference)")):
        ms = timings[kind]
        print(f"{SAMPLES} traces (half downstream, half upstream), {name}: p50 {statistics.median(ms):.1f} ms, "
              f"p95 {percentile(ms, 0.95):.1f} ms, max {max(ms):.1f} ms")
    print("answers identical for every sample")


def main() -> None:
    if sys.argv[1:2] == ["--probe"]:
        probe(sys.argv[2], int(sys.argv[3]))
        return
    settings = Settings()
    engine = create_db_engine(settings.database)
    owner = create_engine(settings.database.migration_url)
    print(f"machine: {os.cpu_count()} cores, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"database {engine.url.database}")
    rng = random.Random(14)
    if "--measure-only" not in sys.argv:
        truncate_data(owner)
        started = time.perf_counter()
        import_simbench(engine=engine, source_dir=default_source_dir(), subnet=None, actor=Actor.system("bench"))
        print(f"SimBench import: {time.perf_counter() - started:.1f} s")
        if "--build-only" not in sys.argv:
            measure(engine, "1x", rng)
        started = time.perf_counter()
        expand(owner)
        print(f"9 more copies: {time.perf_counter() - started:.1f} s")
    if "--build-only" in sys.argv:
        return
    measure(engine, "10x" if "--measure-only" not in sys.argv else "as found", rng)


if __name__ == "__main__":
    main()
