"""Screening benchmarks on the full SimBench network: one screening through the API (p50/p95),
a batch of 1,000 in one call, and the time to rebuild every derived zone. Run with
`./gw bench screening`; it uses its own database (`gridwarden_bench`) and prints its figures.

Requests are placed where screening has work to do: next to overhead lines and cables (0-40 m
off the centre line) and near transformers, as points and as 20 m x 20 m site polygons, cycling
through the six activities.
"""

from __future__ import annotations

import math
import os
import random
import statistics
import time
from collections import Counter
from typing import Any

from sqlalchemy import text

from bench.common import api_client, bench_headers, report
from core.context import Actor
from core.database import create_db_engine, create_session_factory, unit_of_work
from core.permissions import Role
from core.settings import Settings
from gis.imports.simbench import default_source_dir, import_simbench
from gis.zones.service import rebuild_all_zones

SAMPLES = 300
BATCH = 1000
BATCH_RUNS = 3
FULL_SET_MIN_LINES = 34_000
ACTIVITIES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("connection", {"requested_load_kw": 12}),
    ("building", {"height_m": 12}),
    ("excavation", {"depth_m": 2}),
    ("crane", {"max_height_m": 25, "working_radius_m": 15}),
    ("tree_planting", {}),
    ("blasting", {"charge_kg": 20}),
)


def _offset(lon: float, lat: float, metres: float, bearing_deg: float) -> tuple[float, float]:
    dlat = metres * math.cos(math.radians(bearing_deg)) / 111_320
    dlon = metres * math.sin(math.radians(bearing_deg)) / (111_320 * math.cos(math.radians(lat)))
    return lon + dlon, lat + dlat


def _square(lon: float, lat: float, side_m: float) -> dict[str, Any]:
    half_lat = side_m / 2 / 111_320
    half_lon = side_m / 2 / (111_320 * math.cos(math.radians(lat)))
    ring = [[lon - half_lon, lat - half_lat], [lon + half_lon, lat - half_lat], [lon + half_lon, lat + half_lat],
            [lon - half_lon, lat + half_lat], [lon - half_lon, lat - half_lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def sample_items(anchors: list[tuple[float, float]], count: int, rng: random.Random) -> list[dict[str, Any]]:
    items = []
    for i in range(count):
        lon, lat = _offset(*rng.choice(anchors), rng.uniform(0, 40), rng.uniform(0, 360))
        activity, parameters = ACTIVITIES[i % len(ACTIVITIES)]
        geometry = ({"type": "Point", "coordinates": [lon, lat]} if i % 2 or activity == "crane"
                    else _square(lon, lat, 20))
        items.append({"geometry": geometry, "activity": activity, "parameters": parameters})
    return items


def main() -> None:
    settings = Settings()
    engine = create_db_engine(settings.database)
    print(f"machine: {os.cpu_count()} cores; database {engine.url.database}")
    with engine.connect() as conn:
        lines = conn.execute(text("SELECT count(*) FROM lines WHERE deleted_at IS NULL")).scalar_one()
    if lines < FULL_SET_MIN_LINES:
        started = time.perf_counter()
        import_simbench(engine=engine, source_dir=default_source_dir(), subnet=None, actor=Actor.system("bench"))
        print(f"full SimBench imported (with zones) in {time.perf_counter() - started:.1f} s")

    factory = create_session_factory(engine)
    started = time.perf_counter()
    with unit_of_work(factory) as db:
        parts = rebuild_all_zones(db=db)
    print(f"rebuild all derived zones: {time.perf_counter() - started:.1f} s ({parts} zone parts)")

    with engine.connect() as conn:
        near_lines = conn.execute(text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_LineInterpolatePoint(geom, 0.5) AS p FROM lines "
            "WHERE deleted_at IS NULL AND ST_NPoints(geom) >= 2) s")).all()
        near_transformers = conn.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM transformers")).all()
        overhead = conn.execute(text(
            "SELECT ST_X(ST_LineInterpolatePoint(geom, 0.5)), ST_Y(ST_LineInterpolatePoint(geom, 0.5)) "
            "FROM lines WHERE construction = 'overhead' AND deleted_at IS NULL")).all()
    anchors = [tuple(r) for r in (*near_lines, *near_transformers, *(list(overhead) * 10))]
    headers = bench_headers(settings, engine, Role.approver)
    engine.dispose()

    rng = random.Random(7)
    with api_client(headers, timeout=120) as client:
        client.post("/screenings", json=sample_items(anchors, 1, rng)[0]).raise_for_status()  # warm up
        millis: list[float] = []
        verdicts: Counter[str] = Counter()
        findings: list[int] = []
        for item in sample_items(anchors, SAMPLES, rng):
            t0 = time.perf_counter()
            response = client.post("/screenings", json=item)
            millis.append((time.perf_counter() - t0) * 1000)
            response.raise_for_status()
            body = response.json()
            verdicts[body["verdict"]] += 1
            findings.append(body["findings_total"])
        report("single screening (POST /screenings)", millis,
               f"(target p95 <= 50 ms; verdicts {dict(verdicts)}; findings median "
               f"{statistics.median(findings):.0f}, max {max(findings)})")

        for run in range(1, BATCH_RUNS + 1):
            items = sample_items(anchors, BATCH, rng)
            t0 = time.perf_counter()
            response = client.post("/screenings/batch", json={"items": items})
            seconds = time.perf_counter() - t0
            response.raise_for_status()
            counts = Counter(r["verdict"] for r in response.json())
            print(f"batch of {BATCH} (POST /screenings/batch) run {run}: {seconds:.2f} s "
                  f"(target <= 5 s; verdicts {dict(counts)})")


if __name__ == "__main__":
    main()
