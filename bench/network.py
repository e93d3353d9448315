"""Network benchmarks on the full SimBench set: import wall time, bbox query latency through the
API, downstream trace latency from MV feeder heads. Run with `./gw bench network`; it uses its own
database (`gridwarden_bench`) and prints its figures.

Latencies are measured end to end through a real uvicorn server on loopback (HTTP, JSON encoding,
auth, database), one request at a time.
"""

from __future__ import annotations

import math
import os
import random
import statistics
import time

from sqlalchemy import create_engine, text

from bench.common import api_client, bench_headers, report, truncate_data
from core.context import Actor
from core.database import create_db_engine
from core.permissions import Role
from core.settings import Settings
from gis.imports.simbench import default_source_dir, import_simbench

WINDOW_M = 2000.0
SAMPLES = 200


def main() -> None:
    settings = Settings()
    engine = create_db_engine(settings.database)
    print(f"machine: {os.cpu_count()} cores; database {engine.url.database}")

    owner = create_engine(settings.database.migration_url)
    truncate_data(owner)  # measure the import into an empty database, as on a first deployment
    owner.dispose()
    started = time.perf_counter()
    result = import_simbench(engine=engine, source_dir=default_source_dir(), subnet=None,
                             actor=Actor.system("bench"))
    first = time.perf_counter() - started
    started = time.perf_counter()
    import_simbench(engine=engine, source_dir=default_source_dir(), subnet=None, actor=Actor.system("bench"))
    second = time.perf_counter() - started
    print(f"full SimBench import: {first:.1f} s (target <= 30 s); re-import (idempotent): {second:.1f} s")
    print(f"  imported: {result.lines} lines ({result.overhead_lines} overhead, {result.cables} cable), "
          f"{result.transformers} transformers, {result.switches} switches, {result.customers} customers, "
          f"{result.nodes} nodes, {result.poles} poles")

    headers = bench_headers(settings, engine, Role.dispatcher)

    rng = random.Random(42)
    with engine.connect() as conn:
        centres = conn.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM transformers")).all()
        feeder_heads = [row[0] for row in conn.execute(text("""
            SELECT DISTINCT l.id FROM lines l
              JOIN network_nodes n ON n.id IN (l.node_a_id, l.node_b_id)
             WHERE n.substation_id IS NOT NULL AND l.nominal_kv BETWEEN 1 AND 36 AND l.deleted_at IS NULL
        """))]
    engine.dispose()

    with api_client(headers) as client:
        for layer in ("lines", "customers", "transformers"):
            millis, counts = [], []
            for lon, lat in (rng.choice(centres) for _ in range(SAMPLES)):
                dlat = WINDOW_M / 2 / 111_320
                dlon = WINDOW_M / 2 / (111_320 * math.cos(math.radians(lat)))
                bbox = f"{lon - dlon},{lat - dlat},{lon + dlon},{lat + dlat}"
                t0 = time.perf_counter()
                response = client.get(f"/network/{layer}" if layer != "customers" else "/customers",
                                      params={"bbox": bbox, "limit": 1000})
                millis.append((time.perf_counter() - t0) * 1000)
                response.raise_for_status()
                counts.append(response.json()["numberReturned"])
            report(f"bbox 2 km x 2 km, {layer}", millis,
                   f"(features per window: median {statistics.median(counts):.0f}, max {max(counts)})")

        client.post("/network/trace", json={"direction": "downstream",
                                            "element": {"type": "line", "id": feeder_heads[0]}})  # graph load
        millis, customers = [], []
        for line_id in (rng.choice(feeder_heads) for _ in range(SAMPLES)):
            t0 = time.perf_counter()
            response = client.post("/network/trace", json={"direction": "downstream",
                                                           "element": {"type": "line", "id": line_id}})
            millis.append((time.perf_counter() - t0) * 1000)
            response.raise_for_status()
            customers.append(response.json()["customer_count"])
        report("downstream trace from MV feeder heads", millis,
               f"({len(feeder_heads)} heads; customers cut off: median {statistics.median(customers):.0f}, "
               f"max {max(customers)})")


if __name__ == "__main__":
    main()
