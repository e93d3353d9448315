"""Load test: a mixed workload from many concurrent clients against one API process, bounded in time.

`./gw bench load [--users 50] [--minutes 5]` prepares the bench database (the SimBench demo subnet,
so preparation takes seconds), starts a real uvicorn server and a Celery worker of its own (on a
queue of its own), and runs locust in library mode with four kinds of clients:

- map readers: 2 km x 2 km windows of lines, customers and zones (the console panning the map);
- screeners: one screening near a line or transformer, cycling through the activities;
- case workers: register a connection request, assign the survey, record it (If-Match each step);
- importers: a small GeoJSON file of lines uploaded, then polled until the worker has imported it.

It prints the 5xx count (must be zero), p50/p95 per operation, and the API process's resident
memory sampled every minute (from /proc/<pid>/status) with its growth from minute 1 to the end.
Machines differ (and other work may share this one), so beside each figure it prints a reference
measured in the same run, interleaved with the load by a separate process: the bare SQL query behind
a map read or a screening, and a one-row round trip to the database as the floor of any write.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text

from bench.common import (
    REPO_ROOT,
    SCREENING_ACTIVITIES,
    api_server,
    bench_headers,
    celery_worker,
    percentile,
    rss_mb,
    screening_point,
    truncate_data,
)
from core.context import Actor
from core.database import create_db_engine
from core.permissions import Role
from core.settings import Settings
from gis.imports.simbench import DEMO_SUBNET, default_source_dir, import_simbench

WINDOW_M = 2000.0
QUEUE = "gw-bench-load"  # the bench's own job queue: a worker of `./gw run` never takes its imports
PROBE_PAUSE_S = 0.5  # between rounds of reference queries: a light, steady sampling of the floor
IMPORT_POLL_S = 1.0
IMPORT_DEADLINE_S = 120.0
# Blasting (a 500 m radius over every facility) is left out: a field crew's everyday screenings.
ACTIVITIES = tuple(a for a in SCREENING_ACTIVITIES if a[0] != "blasting")
# The bare SQL of each operation's database work, for the reference figures. Bound parameters only.
REFERENCE_SQL = {
    "lines": "SELECT id, ST_AsGeoJSON(geom) FROM lines WHERE deleted_at IS NULL "
             "AND geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326) LIMIT 1000",
    "customers": "SELECT id, ST_AsGeoJSON(geom) FROM customers WHERE deleted_at IS NULL "
                 "AND geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326) LIMIT 1000",
    "zones": "SELECT id, ST_AsGeoJSON(geom) FROM line_zones "
             "WHERE geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326) LIMIT 1000",
    "screening": "SELECT id, ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography) "
                 "FROM lines WHERE deleted_at IS NULL AND ST_DWithin(geom::geography, "
                 "ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography, 500)",
    "round trip": "SELECT 1",
}


@dataclass(frozen=True)
class Fixture:
    """What the clients need: where the network is, who they are."""

    anchors: list[tuple[float, float]]  # transformer positions: where the map is looked at
    extent: tuple[float, float, float, float]
    headers: dict[Role, dict[str, str]]
    inspector_id: int


def _window(lon: float, lat: float) -> tuple[float, float, float, float]:
    dlat = WINDOW_M / 2 / 111_320
    dlon = WINDOW_M / 2 / (111_320 * math.cos(math.radians(lat)))
    return lon - dlon, lat - dlat, lon + dlon, lat + dlat


def prepare(settings: Settings) -> Fixture:
    engine = create_db_engine(settings.database)
    owner = create_engine(settings.database.migration_url)
    truncate_data(owner)
    owner.dispose()
    started = time.perf_counter()
    import_simbench(engine=engine, source_dir=default_source_dir(), subnet=DEMO_SUBNET, actor=Actor.system("bench"))
    print(f"prepared: SimBench {DEMO_SUBNET} imported in {time.perf_counter() - started:.1f} s")
    headers = {role: bench_headers(settings, engine, role) for role in (Role.dispatcher, Role.approver,
                                                                          Role.inspector)}
    with engine.connect() as conn:
        anchors = [(float(x), float(y)) for x, y in conn.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM transformers"))]
        extent = tuple(float(v) for v in conn.execute(text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) AS e FROM lines) s"
        )).one())
        inspector_id = int(conn.execute(text("SELECT id FROM users WHERE username = 'bench-inspector'")).scalar_one())
        counts = conn.execute(text("SELECT (SELECT count(*) FROM lines), (SELECT count(*) FROM customers), "
                                   "(SELECT count(*) FROM line_zones)")).one()
    engine.dispose()
    print(f"  {counts[0]} lines, {counts[1]} customers, {counts[2]} zone parts, {len(anchors)} transformers")
    return Fixture(anchors=anchors, extent=extent, headers=headers,  # type: ignore[arg-type]
                   inspector_id=inspector_id)


# --- the reference probe: a separate process, so its blocking database calls never stall the
# --- load generator's event loop, and so it measures the floor while the load runs.

def probe(seconds: float, anchors_file: Path) -> None:
    """Run the reference queries round after round for `seconds`; print one JSON line per timing."""
    settings = Settings()
    engine: Engine = create_db_engine(settings.database)
    anchors = json.loads(anchors_file.read_text())
    rng = random.Random(7)
    stop_at = time.monotonic() + seconds
    with engine.connect() as conn:
        while time.monotonic() < stop_at:
            lon, lat = rng.choice(anchors)
            x0, y0, x1, y1 = _window(lon, lat)
            for name, sql in REFERENCE_SQL.items():
                params = {"x0": x0, "y0": y0, "x1": x1, "y1": y1, "x": lon + 0.0003, "y": lat}
                t0 = time.perf_counter()
                conn.execute(text(sql), params).all()
                print(json.dumps({"name": name, "ms": (time.perf_counter() - t0) * 1000}), flush=True)
            conn.rollback()
            time.sleep(PROBE_PAUSE_S)
    engine.dispose()


# --- processes the bench owns: the worker, and helpers to find the API's pid and memory.

# --- the load itself (locust, imported only here: it patches the standard library for gevent).

def run_load(fixture: Fixture, base_url: str, users: int, seconds: float, api_pid: int) -> dict[str, Any]:
    import gevent
    from locust import HttpUser, between, task
    from locust.env import Environment

    rng = random.Random(42)
    statuses: dict[str, Counter[int]] = defaultdict(Counter)
    times: dict[str, list[float]] = defaultdict(list)
    rss: list[tuple[float, float]] = []
    jobs: Counter[str] = Counter()
    done_ms: list[float] = []  # import jobs: upload to the worker's outcome

    examples: dict[str, dict[int, str]] = defaultdict(dict)  # the first body of each unexpected status

    def record(name: str, status: int, millis: float, body: str = "") -> None:
        statuses[name][status] += 1
        times[name].append(millis)
        if status >= 300 and status not in examples[name]:
            examples[name][status] = body[:300]

    class Client(HttpUser):
        abstract = True
        host = base_url
        wait_time = between(1, 3)
        role = Role.dispatcher

        def call(self, name: str, method: str, path: str, **kwargs: Any) -> Any:
            headers = {**fixture.headers[self.role], **kwargs.pop("headers", {})}
            t0 = time.perf_counter()
            with self.client.request(method, path, name=name, headers=headers, catch_response=True,
                                     **kwargs) as response:
                record(name, response.status_code, (time.perf_counter() - t0) * 1000,
                       response.text if response.status_code >= 300 else "")
                if response.status_code < 500:
                    response.success()
                return response

    class MapReader(Client):
        weight = 5

        @task
        def pan(self) -> None:
            bbox = ",".join(f"{v:.6f}" for v in _window(*rng.choice(fixture.anchors)))
            self.call("map: lines bbox", "GET", "/network/lines", params={"bbox": bbox, "limit": 1000})
            self.call("map: customers bbox", "GET", "/customers", params={"bbox": bbox, "limit": 1000})
            self.call("map: zones bbox", "GET", "/zones", params={"bbox": bbox, "limit": 1000})

    class Screener(Client):
        weight = 2

        @task
        def screen(self) -> None:
            lon, lat = rng.choice(fixture.anchors)
            activity, parameters = rng.choice(ACTIVITIES)
            self.call("screening", "POST", "/screenings", json={
                "geometry": screening_point(activity, lon + rng.uniform(-3e-4, 3e-4), lat + 2e-4),
                "activity": activity, "parameters": parameters})

    class CaseWorker(Client):
        weight = 2
        role = Role.approver

        @task
        def register_assign_survey(self) -> None:
            lon, lat = rng.choice(fixture.anchors)
            case = self.call("case: register", "POST", "/cases", json={
                "kind": "connection", "request_type": "new_connection", "applicant_name": "Bench Applicant",
                "applicant_phone": "13800138000", "applicant_id_number": "110101199003071234",
                "site_address": "Bench Street 1", "requested_load_kw": 10, "voltage_kv": 0.4,
                "location": {"type": "Point", "coordinates": [lon + 0.002, lat + 0.002]}})
            if case.status_code != 201:
                return
            body = case.json()
            step = self.call("case: assign survey", "POST", f"/cases/{body['id']}/actions/assign_survey",
                             json={"assignee_id": fixture.inspector_id},
                             headers={"If-Match": f'"{body["version"]}"'})
            if step.status_code != 200:
                return
            self.role = Role.inspector
            try:
                self.call("case: record survey", "POST", f"/cases/{body['id']}/actions/record_survey",
                          json={"findings": "no hazard on site", "hazard_found": False},
                          headers={"If-Match": f'"{step.json()["version"]}"'})
            finally:
                self.role = Role.approver

    class Importer(Client):
        weight = 1
        wait_time = between(5, 10)

        @task
        def upload(self) -> None:
            x0, y0, x1, y1 = fixture.extent
            tag = uuid.uuid4().hex[:10]
            features = []
            for i in range(5):
                lon, lat = rng.uniform(x0, x1), rng.uniform(y0, y1)
                features.append({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [
                    [lon, lat], [lon + 0.001, lat + 0.001]]}, "properties": {
                    "external_id": f"bench-{tag}-{i}", "construction": "overhead", "nominal_kv": 10,
                    "conductor_spread_m": 1.5}})
            data = json.dumps({"type": "FeatureCollection", "features": features}).encode()
            started = time.perf_counter()
            queued = self.call("import: upload", "POST", "/imports/geo", data={"layer": "lines"},
                               files={"file": ("lines.geojson", data, "application/geo+json")})
            if queued.status_code != 202:
                return
            job_id = queued.json()["id"]
            deadline = time.monotonic() + IMPORT_DEADLINE_S
            while time.monotonic() < deadline:
                gevent.sleep(IMPORT_POLL_S)
                job = self.call("import: poll", "GET", f"/imports/{job_id}")
                if job.status_code == 200 and job.json()["status"] in {"succeeded", "failed"}:
                    jobs[job.json()["status"]] += 1
                    done_ms.append((time.perf_counter() - started) * 1000)
                    return
            jobs["not done within the deadline"] += 1

    def sample_memory() -> None:
        t0 = time.monotonic()
        while True:
            rss.append(((time.monotonic() - t0) / 60, rss_mb(api_pid)))
            gevent.sleep(60)

    env = Environment(user_classes=[MapReader, Screener, CaseWorker, Importer])
    runner = env.create_local_runner()
    sampler = gevent.spawn(sample_memory)
    runner.start(users, spawn_rate=max(1, users // 10))
    gevent.spawn_later(seconds, runner.quit)
    runner.greenlet.join()
    sampler.kill()
    rss.append((seconds / 60, rss_mb(api_pid)))
    return {"statuses": statuses, "times": times, "rss": rss, "seconds": seconds, "jobs": jobs, "done_ms": done_ms,
            "examples": examples}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50, help="concurrent clients (default 50)")
    parser.add_argument("--minutes", type=float, default=5.0, help="duration of the load (default 5)")
    parser.add_argument("--probe", type=float, help=argparse.SUPPRESS)  # internal: the reference probe
    parser.add_argument("--anchors", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe is not None:
        probe(args.probe, args.anchors)
        return

    os.environ["GW_WORKER_QUEUE"] = QUEUE
    settings = Settings()
    print(f"machine: {os.cpu_count()} cores; database {settings.database.url.get_secret_value().rsplit('/', 1)[-1]};"
          f" {args.users} clients for {args.minutes:g} min")
    fixture = prepare(settings)
    anchors_file = REPO_ROOT / ".gw" / "bench-load-anchors.json"
    anchors_file.write_text(json.dumps(fixture.anchors))
    seconds = args.minutes * 60

    log_path = REPO_ROOT / ".gw" / "log" / "bench-load-worker.log"
    prober_command = [sys.executable, "-m", "bench.load", "--probe", str(seconds), "--anchors", str(anchors_file)]
    with celery_worker(settings, name="bench-load", concurrency=1, log_path=log_path), \
            api_server(fixture.headers[Role.dispatcher]) as (client, api_pid), \
            subprocess.Popen(prober_command, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True) as prober:
        result = _run_in_child(fixture, str(client.base_url).rstrip("/"), args.users, seconds, api_pid)
        probe_out, _ = prober.communicate(timeout=seconds + 120)
    references: dict[str, list[float]] = defaultdict(list)
    for line in probe_out.splitlines():
        sample = json.loads(line)
        references[sample["name"]].append(sample["ms"])
    print_report(result, references)


def _run_in_child(fixture: Fixture, base_url: str, users: int, seconds: float, api_pid: int) -> dict[str, Any]:
    """Run locust in a child process: its gevent patching stays out of this one (which owns the
    server, the worker and the probe with ordinary blocking I/O)."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return pool.apply(_load_entry, (fixture, base_url, users, seconds, api_pid))


def _load_entry(fixture: Fixture, base_url: str, users: int, seconds: float, api_pid: int) -> dict[str, Any]:
    import logging
    import warnings

    from gevent import monkey

    # The spawned child has imported this module (and ssl with it) before patching; nothing here uses TLS.
    warnings.filterwarnings("ignore", category=monkey.MonkeyPatchWarning)
    monkey.patch_all()
    # An importer's upload and polls share one keep-alive pool per client; extra sockets are just closed.
    logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)
    result = run_load(fixture, base_url, users, seconds, api_pid)
    return {"statuses": {k: dict(v) for k, v in result["statuses"].items()}, "seconds": result["seconds"],
            "times": dict(result["times"]), "rss": result["rss"], "jobs": dict(result["jobs"]),
            "done_ms": result["done_ms"], "examples": {k: dict(v) for k, v in result["examples"].items()}}


REFERENCE_FOR = {
    "map: lines bbox": "lines", "map: customers bbox": "customers", "map: zones bbox": "zones",
    "screening": "screening",
}


def print_report(result: dict[str, Any], references: dict[str, list[float]]) -> None:
    statuses: dict[str, dict[int, int]] = result["statuses"]
    times: dict[str, list[float]] = result["times"]
    errors = {name: {s: n for s, n in counts.items() if s >= 500} for name, counts in statuses.items()}
    total_5xx = sum(sum(v.values()) for v in errors.values())
    total = sum(sum(counts.values()) for counts in statuses.values())
    print(f"\nrequests: {total} ({total / result['seconds']:.1f}/s); 5xx: {total_5xx} "
          f"{'(OK: zero)' if total_5xx == 0 else '(FAIL)'}")
    for name, bad in errors.items():
        if bad:
            print(f"  {name}: {bad}")
    floor = references.get("round trip", [0.0])
    print(f"\n{'operation':<34} {'n':>6} {'p50 ms':>9} {'p95 ms':>9}   reference (same run, bare SQL) p50 / p95 ms")
    for name in sorted(times):
        millis = times[name]
        ref_name = REFERENCE_FOR.get(name, "round trip")
        ref = references.get(ref_name) or floor
        other = {s: n for s, n in statuses[name].items() if s not in {200, 201, 202}}
        print(f"{name:<34} {len(millis):>6} {percentile(millis, 0.5):>9.1f} {percentile(millis, 0.95):>9.1f}   "
              f"{ref_name}: {percentile(ref, 0.5):.1f} / {percentile(ref, 0.95):.1f}"
              + (f"   other statuses {other}" if other else ""))
    for name, bodies in result["examples"].items():
        for status, body in bodies.items():
            print(f"  first {status} of {name}: {body}")
    done_ms: list[float] = result["done_ms"]
    print(f"\nimport jobs: {result['jobs']}" + (
        f"; upload to outcome p50 {percentile(done_ms, 0.5):.0f} ms, p95 {percentile(done_ms, 0.95):.0f} ms "
        f"(polled every {IMPORT_POLL_S:g} s)" if done_ms else ""))
    rss: list[tuple[float, float]] = result["rss"]
    print("\nAPI process resident memory (VmRSS):")
    for minute, mib in rss:
        print(f"  minute {minute:4.1f}: {mib:7.1f} MiB")
    after_warmup = [mib for minute, mib in rss if minute >= 1]
    if len(after_warmup) >= 2:
        growth = after_warmup[-1] - after_warmup[0]
        print(f"  growth from minute 1 to the end: {growth:+.1f} MiB ({growth / after_warmup[0] * 100:+.1f} %)")


if __name__ == "__main__":
    main()
