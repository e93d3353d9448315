"""Sync push benchmark (issue 9 §4): 50 inspectors' devices push 10,000 mutations in batches of 100
through a real uvicorn server, a few devices at a time. Run with `./gw bench sync_push`.

The mix per device (200 mutations, two batches): eight line patrols worked through offline (accept,
start, the five required checklist answers one by one against the version the device pulled, two
findings, submit: 80 items) and 120 GPS pings interleaved (a ping every 4 minutes over a working
day). Readings are not in the mix (a reading needs reading books built from customers; their own
benchmark belongs to h/readings). Batches go round-robin over the devices, `CONCURRENCY` at a time;
a device's second batch waits for its first.

Reported: mutations/s over the wall time, p50/p95 per batch, per-status counts, and lost = 0 checked
by counting rows (every uuid sent is in `sync_mutations`, none pending; findings, pings and submitted
tasks as many as sent). Beside it, in the same run and interleaved batch by batch on the same
threads: the floor, the same number of rows written by bare SQL (psycopg executemany, 100 rows per
batch, one commit per batch) into a scratch table.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import statistics
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine, create_engine, text

from bench.common import api_client, bench_user, percentile, truncate_data
from core.context import Actor
from core.database import create_db_engine, create_session_factory, unit_of_work
from core.permissions import Role
from core.settings import Settings
from core.users import service as user_service
from core.users.schemas import UserCreate
from inspections import service as task_service
from inspections.specs import TaskSpec
from inspections.sync import devices
from inspections.workflow import TaskType

DEVICES = 50
TASKS_PER_DEVICE = 8
PINGS_PER_DEVICE = 120
BATCH = 100
CONCURRENCY = 4
TARGET_PER_S = 500.0
HEFEI = (117.2272, 31.8206)
ANSWERS = (("conductors_ok", True), ("insulators_ok", True), ("poles_ok", True), ("clearance_ok", True),
           ("protection_zone", "none"))
FINDINGS = ({"severity": "minor", "category": "signage_missing", "description": "Number plate missing"},
            {"severity": "minor", "category": "vegetation", "description": "Bamboo growing toward phase C"})


@dataclass
class Device:
    number: int
    headers: dict[str, str]
    tasks: list[tuple[str, int]]  # (uuid, version the device pulled)
    batches: list[list[dict[str, Any]]] = field(default_factory=list)
    first_done: threading.Event = field(default_factory=threading.Event)


def _item(kind: str, data: dict[str, Any], at: datetime, base_version: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"uuid": str(uuid.uuid4()), "kind": kind, "data": data, "device_time": at.isoformat()}
    if base_version is not None:
        body["base_version"] = base_version
    return body


def day_of(device: Device, start: datetime) -> list[dict[str, Any]]:
    """The device's 200 mutations in the order it made them."""
    work: list[dict[str, Any]] = []
    for task_uuid, version in device.tasks:
        of_task = {"task_uuid": task_uuid}
        work += [_item("task_action", {**of_task, "action": "accept"}, start),
                 _item("task_action", {**of_task, "action": "start"}, start)]
        work += [_item("answers", {**of_task, "answers": {key: value}}, start, base_version=version)
                 for key, value in ANSWERS]
        work += [_item("finding", {**of_task, **finding}, start) for finding in FINDINGS]
        work.append(_item("task_action", {**of_task, "action": "submit"}, start))
    pings = [_item("gps_ping", {"lon": HEFEI[0] + device.number * 1e-3 + n * 1e-5, "lat": HEFEI[1] + n * 1e-5,
                                "accuracy_m": 8.0}, start + timedelta(minutes=4 * n)) for n in range(PINGS_PER_DEVICE)]
    mixed: list[dict[str, Any]] = []
    for n, ping in enumerate(pings):  # pings between the task steps, as the day went
        mixed += work[n * len(work) // len(pings):(n + 1) * len(work) // len(pings)] + [ping]
    return mixed


def set_up(settings: Settings, engine: Engine, now: datetime) -> list[Device]:
    """50 inspectors, each with a registered device and eight assigned line patrols."""
    dispatcher, _ = bench_user(settings, engine, Role.dispatcher)
    found: list[Device] = []
    with unit_of_work(create_session_factory(engine)) as db:
        for number in range(DEVICES):
            username = f"bench-inspector-{number:02d}"
            user = user_service.get_by_username(db=db, username=username) or user_service.create(
                db=db, actor=Actor.system("bench"), user_in=UserCreate(username=username, role=Role.inspector,
                                                                       password="bench-password-123"))
            inspector = Actor(user_id=user.id, username=username, role=Role.inspector)
            phone = devices.register(db=db, actor=inspector, settings=settings, now=now,
                                     spec=devices.DeviceSpec(client_device_id=f"phone-{number:02d}"))
            tasks = []
            for n in range(TASKS_PER_DEVICE):
                lon, lat = HEFEI[0] + number * 1e-3, HEFEI[1] + n * 1e-3
                task = task_service.create_task(db=db, actor=dispatcher, now=now, spec=TaskSpec(
                    task_type=TaskType.line_patrol, title=f"Patrol {number}-{n}", due_from=now,
                    due_until=now + timedelta(days=2), location_wkt=f"POINT({lon} {lat})",
                    checklist_code="line_patrol", assignee_id=user.id))
                tasks.append((str(task.uuid), task.version))
            found.append(Device(number, {"Authorization": f"Bearer {phone.access_token}"}, tasks))
    return found


class Floor:
    """Bare SQL: the same number of rows, executemany into a scratch table, one commit per batch."""

    def __init__(self, engine: Engine) -> None:
        self._raw = engine.raw_connection()

    def write(self, items: list[dict[str, Any]]) -> float:
        connection = self._raw.driver_connection
        assert connection is not None
        rows = [(i["uuid"], i["kind"], json.dumps(i["data"]), i["device_time"]) for i in items]
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.executemany("INSERT INTO bench_push_floor (uuid, kind, data, device_time) "
                               "VALUES (%s, %s, %s::jsonb, %s)", rows)
        connection.commit()
        return (time.perf_counter() - started) * 1000

    def close(self) -> None:
        self._raw.close()


@dataclass
class Run:
    api_ms: list[float] = field(default_factory=list)
    floor_ms: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _worker(base_url: str, work: queue.Queue[tuple[Device, int]], floor_engine: Engine, run: Run) -> None:
    floor = Floor(floor_engine)
    with httpx.Client(base_url=base_url, timeout=120) as http:
        while True:
            try:
                device, index = work.get_nowait()
            except queue.Empty:
                break
            if index > 0:
                device.first_done.wait()
            batch = device.batches[index]
            started = time.perf_counter()
            response = http.post("/sync/push", headers=device.headers,
                                 json={"device_time": datetime.now(UTC).isoformat(), "items": batch})
            elapsed = (time.perf_counter() - started) * 1000
            floor_elapsed = floor.write(batch)
            with run.lock:
                run.api_ms.append(elapsed)
                run.floor_ms.append(floor_elapsed)
                if response.status_code != 200:
                    run.errors.append(f"{response.status_code} {response.text[:300]}")
                else:
                    run.statuses.update(r["status"] for r in response.json()["results"])
                    for r in response.json()["results"]:
                        if r["status"] == "rejected" and len(run.errors) < 5:
                            run.errors.append(json.dumps(r["problem"]))
            if index == 0:
                device.first_done.set()
    floor.close()


def count(engine: Engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar_one())


def main() -> None:
    # Throughput is what this measures: the API runs as it is deployed, one uvicorn worker process per
    # core (`--workers N` to compare; 1 is what the latency benchmarks use).
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY, help="batches in flight at once")
    args = parser.parse_args()
    workers, concurrency = args.workers, args.concurrency
    settings = Settings()
    owner = create_engine(settings.database.migration_url)
    truncate_data(owner)
    with owner.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench_push_floor"))
        conn.execute(text("CREATE TABLE bench_push_floor (uuid uuid PRIMARY KEY, kind text, data jsonb, "
                          "device_time timestamptz)"))
    app_engine = create_db_engine(settings.database)
    now = datetime.now(UTC)
    started = time.perf_counter()
    fleet = set_up(settings, app_engine, now)
    print(f"set-up: {DEVICES} inspectors, devices, {DEVICES * TASKS_PER_DEVICE} assigned tasks in "
          f"{time.perf_counter() - started:.1f} s")
    for device in fleet:
        day = day_of(device, now)
        device.batches = [day[i:i + BATCH] for i in range(0, len(day), BATCH)]
    sent = [i["uuid"] for d in fleet for b in d.batches for i in b]
    work: queue.Queue[tuple[Device, int]] = queue.Queue()
    for index in range(max(len(d.batches) for d in fleet)):
        for device in fleet:
            if index < len(device.batches):
                work.put((device, index))
    run = Run()
    _, headers = bench_user(settings, app_engine, Role.dispatcher)
    with api_client(headers, workers=workers) as client:
        base_url = str(client.base_url)
        wall = time.perf_counter()
        threads = [threading.Thread(target=_worker, args=(base_url, work, owner, run)) for _ in range(concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall_s = time.perf_counter() - wall
        replay = client.post("/sync/push", headers=fleet[0].headers,
                             json={"device_time": datetime.now(UTC).isoformat(), "items": fleet[0].batches[0]})
    print(f"API: uvicorn with {workers} worker process(es) on {os.cpu_count()} cores")
    report(run, sent, wall_s, owner, replay, concurrency)
    with owner.begin() as conn:
        conn.execute(text("DROP TABLE bench_push_floor"))


def report(run: Run, sent: list[str], wall_s: float, owner: Engine, replay: httpx.Response, concurrency: int) -> None:
    total = len(sent)
    stored = count(owner, "SELECT count(*) FROM sync_mutations")
    pending = count(owner, "SELECT count(*) FROM sync_mutations WHERE status = 'pending'")
    with owner.connect() as conn:
        missing = conn.execute(text("SELECT count(*) FROM unnest(CAST(:u AS uuid[])) AS s(u) WHERE NOT EXISTS "
                                    "(SELECT 1 FROM sync_mutations m WHERE m.uuid = s.u)"), {"u": sent}).scalar_one()
    findings, pings = count(owner, "SELECT count(*) FROM findings"), count(owner, "SELECT count(*) FROM gps_pings")
    submitted = count(owner, "SELECT count(*) FROM field_tasks WHERE state = 'submitted'")
    floor_rows = count(owner, "SELECT count(*) FROM bench_push_floor")
    rate = total / wall_s
    floor_wall_s = sum(run.floor_ms) / 1000 / concurrency
    print(f"push: {total} mutations from {DEVICES} devices in {len(run.api_ms)} batches of {BATCH}, "
          f"{concurrency} at a time: {wall_s:.1f} s wall, {rate:.0f} mutations/s "
          f"(target >= {TARGET_PER_S:.0f}: {'met' if rate >= TARGET_PER_S else 'MISSED'})")
    print(f"  per batch: p50 {percentile(run.api_ms, 0.5):.0f} ms, p95 {percentile(run.api_ms, 0.95):.0f} ms, "
          f"max {max(run.api_ms):.0f} ms, mean {statistics.mean(run.api_ms):.0f} ms")
    print(f"  floor (bare SQL executemany, same rows, interleaved): per batch p50 "
          f"{percentile(run.floor_ms, 0.5):.1f} ms, p95 {percentile(run.floor_ms, 0.95):.1f} ms, "
          f"~{floor_rows / floor_wall_s:.0f} rows/s at the same concurrency; API/floor per batch p50 "
          f"{percentile(run.api_ms, 0.5) / percentile(run.floor_ms, 0.5):.0f}x")
    print(f"  results: {dict(sorted(run.statuses.items()))}; HTTP errors and first rejections: {run.errors[:5]}")
    print(f"  lost: {missing} of {total} uuids missing from sync_mutations ({stored} stored, {pending} pending); "
          f"findings {findings}/{DEVICES * TASKS_PER_DEVICE * len(FINDINGS)}, pings {pings}/"
          f"{DEVICES * PINGS_PER_DEVICE}, submitted tasks {submitted}/{DEVICES * TASKS_PER_DEVICE}")
    replayed = Counter(r["status"] for r in replay.json()["results"]) if replay.status_code == 200 else replay.text
    print(f"  a device's first batch pushed again: {replayed}")


if __name__ == "__main__":
    main()
