"""Screening benchmarks on the full SimBench network: one screening through the API (p50/p95),
a batch of 1,000 in one call, and the time to rebuild every derived zone. Run with
`./gw bench screening`; it uses its own database (`gridwarden_bench`) and prints its figures.

Requests are placed where screening has work to do: next to overhead lines and cables (0-40 m
off the centre line) and near transformers, as points and as 20 m x 20 m site polygons, cycling
through the eight activities (a vehicle passage along a 60 m route).

Beside each figure stands its floor, measured in the same run and interleaved with the API calls
(see `bench.common`): the SQL the screening engine and the store run for the same request (the
rule set, the candidate queries, the inserts of the screenings and their audit record), replayed
straight through psycopg.
"""

from __future__ import annotations

import math
import os
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from bench.common import (
    SCREENING_ACTIVITIES,
    Floor,
    api_client,
    bench_user,
    record_sql,
    report_with_floor,
    screening_point,
    timed,
)
from core.context import Actor
from core.database import create_db_engine, create_session_factory, unit_of_work
from core.permissions import Role
from core.settings import Settings
from gis.imports.simbench import default_source_dir, import_simbench
from gis.rule_sets import service as rule_set_service
from gis.screening import service as screening_service
from gis.screening.schemas import ScreeningBatchIn, ScreeningIn
from gis.screening.settings import screening_settings
from gis.zones.service import rebuild_all_zones

SAMPLES = 300
BATCH = 1000
BATCH_RUNS = 5
TARGET_SINGLE_MS = 50.0
TARGET_BATCH_S = 5.0
WGS84 = 4326
FULL_SET_MIN_LINES = 34_000
ACTIVITIES = SCREENING_ACTIVITIES


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
        geometry = (screening_point(activity, lon, lat) if i % 2 or activity in ("crane", "vehicle_passage")
                    else _square(lon, lat, 20))
        items.append({"geometry": geometry, "activity": activity, "parameters": parameters})
    return items


def _screening_work(settings: Settings, actor: Actor, items: list[dict[str, Any]], *, batch: bool,
                    ) -> Callable[[Session], int]:
    """What the screening endpoints' handlers do (api.routers.screenings), without an Idempotency-Key."""
    raws = ([i.raw() for i in ScreeningBatchIn.model_validate({"items": items}).items] if batch
            else [ScreeningIn.model_validate(items[0]).raw()])

    def work(db: Session) -> int:
        rule_set = rule_set_service.get_rule_set(db=db, reference=None, on=None)
        valid = screening_service.validate_all(raws=raws, epsg=WGS84, rule_set=rule_set, limits=screening_settings(settings),
                                               batch=batch)
        return len(screening_service.run(db=db, actor=actor, items=valid, rule_set=rule_set, epsg=WGS84,
                                         limits=screening_settings(settings), batch=batch))

    return work


def _floor_of(engine: Engine, settings: Settings, actor: Actor, items: list[dict[str, Any]], *,
              batch: bool) -> Callable[[Floor], float]:
    _, statements = record_sql(engine, _screening_work(settings, actor, items, batch=batch))
    return lambda floor: floor.run(statements)


def screening_anchors(conn: Connection) -> list[tuple[float, float]]:
    """Where screenings are placed (near them, `sample_items`): the middle of every line, every
    transformer, and the middle of every overhead line ten times over, where screening has most to do."""
    near_lines = conn.execute(text(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_LineInterpolatePoint(geom, 0.5) AS p FROM lines "
        "WHERE deleted_at IS NULL AND ST_NPoints(geom) >= 2) s")).all()
    near_transformers = conn.execute(text(
        "SELECT ST_X(geom), ST_Y(geom) FROM transformers WHERE deleted_at IS NULL")).all()
    overhead = conn.execute(text(
        "SELECT ST_X(ST_LineInterpolatePoint(geom, 0.5)), ST_Y(ST_LineInterpolatePoint(geom, 0.5)) "
        "FROM lines WHERE construction = 'overhead' AND deleted_at IS NULL")).all()
    return [(float(x), float(y)) for x, y in (*near_lines, *near_transformers, *list(overhead) * 10)]


def ensure_full_simbench(engine: Engine) -> int:
    """The bench database holds the full SimBench set, imported now when it does not (kept for later
    runs); returns its number of lines."""
    with engine.connect() as conn:
        lines = int(conn.execute(text("SELECT count(*) FROM lines WHERE deleted_at IS NULL")).scalar_one())
    if lines < FULL_SET_MIN_LINES:
        started = time.perf_counter()
        report = import_simbench(engine=engine, source_dir=default_source_dir(), subnet=None,
                                 actor=Actor.system("bench"))
        print(f"full SimBench imported (with zones) in {time.perf_counter() - started:.1f} s", flush=True)
        lines = report.lines
    return lines


def main() -> None:
    settings = Settings()
    engine = create_db_engine(settings.database)
    print(f"machine: {os.cpu_count()} cores, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"database {engine.url.database}")
    ensure_full_simbench(engine)

    factory = create_session_factory(engine)
    started = time.perf_counter()
    with unit_of_work(factory) as db:
        parts = rebuild_all_zones(db=db)
    print(f"rebuild all derived zones: {time.perf_counter() - started:.1f} s ({parts} zone parts)")

    with engine.connect() as conn:
        anchors = screening_anchors(conn)
    actor, headers = bench_user(settings, engine, Role.approver)

    rng = random.Random(7)
    floor = Floor(engine)
    with api_client(headers, timeout=120) as client:
        client.post("/screenings", json=sample_items(anchors, 1, rng)[0]).raise_for_status()  # warm up
        singles = sample_items(anchors, SAMPLES, rng)
        floors = [_floor_of(engine, settings, actor, [item], batch=False) for item in singles]
        millis: list[float] = []
        floor_ms: list[float] = []
        verdicts: Counter[str] = Counter()
        findings: list[int] = []
        for i, (item, replay) in enumerate(zip(singles, floors, strict=True)):
            if i % 2:
                floor_ms.append(replay(floor))
            response, ms = timed(partial(client.post, "/screenings", json=item))
            millis.append(ms)
            if not i % 2:
                floor_ms.append(replay(floor))
            response.raise_for_status()
            body = response.json()
            verdicts[body["verdict"]] += 1
            findings.append(body["findings_total"])
        report_with_floor("single screening (POST /screenings)", millis, floor_ms, target_ms=TARGET_SINGLE_MS,
                          extra=f"verdicts {dict(verdicts)}; findings median {statistics.median(findings):.0f}, "
                                f"max {max(findings)}")

        for run in range(1, BATCH_RUNS + 1):
            items = sample_items(anchors, BATCH, rng)
            replay = _floor_of(engine, settings, actor, items, batch=True)
            floor_first = run % 2 == 0
            floor_s = replay(floor) / 1000 if floor_first else 0.0
            response, ms = timed(partial(client.post, "/screenings/batch", json={"items": items}))
            if not floor_first:
                floor_s = replay(floor) / 1000
            seconds = ms / 1000
            response.raise_for_status()
            counts = Counter(r["verdict"] for r in response.json())
            print(f"batch of {BATCH} (POST /screenings/batch) run {run}: API {seconds:.2f} s | floor {floor_s:.2f} s "
                  f"| API/floor {seconds / floor_s:.2f}  target <= {TARGET_BATCH_S:g} s: "
                  f"{'met' if seconds <= TARGET_BATCH_S else 'MISSED'} ({seconds / TARGET_BATCH_S:.0%} of it; "
                  f"verdicts {dict(counts)})")
    floor.close()
    engine.dispose()
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
