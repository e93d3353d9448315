"""Photo evidence benchmark (issue 11 §4): 200 photos of ~3 MB uploaded end to end by 20 concurrent
clients through a real uvicorn server and a real Celery worker. Run with `./gw bench evidence`.

Each client does what an inspector's phone does, one photo after another: `POST /evidence/uploads`
linked to one of the inspector's patrol tasks, PUT the bytes to the presigned URL (or its parts),
`POST /evidence/{id}/complete`, then poll `GET /evidence/{id}` until the photo is verified (or
suspicious) with its large and thumbnail variants made.

Beside it, in the same run and interleaved batch by batch (a raw batch, then the same photos through
the API, and so on): the raw S3 PUT throughput of the same files by the same number of clients,
straight to presigned URLs under another prefix. Printed: photos/s end to end, p50/p95 from create to
verified, p50/p95 of the create call, raw PUT photos/s, and the ratio ours/raw.

The worker is started here on a queue of its own (GW_WORKER_QUEUE), so a development worker on the
same Redis never takes the benchmark's jobs to another database.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx
from sqlalchemy import Engine, create_engine, select

from bench.common import REPO_ROOT, api_client, bench_user, celery_worker, percentile, truncate_data
from core.database import create_db_engine, create_session_factory, unit_of_work
from core.permissions import Role
from core.settings import Settings
from core.storage import ObjectStorage
from gridwarden.domains import installed
from inspections import service as task_service
from inspections.specs import TaskSpec
from inspections.workflow import TaskType
from media.models import Evidence

PHOTOS = 200
CLIENTS = 20
PHOTO_BYTES = 3_000_000
BATCH = 50  # photos per interleaved pair of batches (raw, then ours)
HEFEI = (117.2272, 31.8206)
POLL_S = 0.1
VERIFIED_WITHIN_S = 600.0  # a photo not verified by then counts as failed
DONE_STATES = frozenset({"verified", "suspicious"})
RAW_PREFIX = "bench/raw-put"


@dataclass(frozen=True)
class Photo:
    number: int
    data: bytes
    sha256: str


@dataclass
class Results:
    create_ms: list[float] = field(default_factory=list)
    to_verified_ms: list[float] = field(default_factory=list)
    ours_wall_s: float = 0.0
    raw_wall_s: float = 0.0
    raw_put_ms: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    evidence_ids: list[int] = field(default_factory=list)


def patrol_tasks(settings: Settings, engine: Engine, count: int) -> tuple[list[str], dict[str, str]]:
    """`count` line patrols assigned to the bench inspector, due now, where the photos are taken (the
    photos carry no GPS: the phone's declared position locates them); their uuids and his headers."""
    dispatcher, _ = bench_user(settings, engine, Role.dispatcher)
    inspector, headers = bench_user(settings, engine, Role.inspector)
    now = datetime.now(UTC)
    uuids = []
    with unit_of_work(create_session_factory(engine)) as db:
        for n in range(count):
            task = task_service.create_task(db=db, actor=dispatcher, now=now - timedelta(hours=1), spec=TaskSpec(
                task_type=TaskType.line_patrol, title=f"Photo patrol {n}", due_from=now - timedelta(hours=1),
                due_until=now + timedelta(days=1), location_wkt=f"POINT({HEFEI[0]} {HEFEI[1]})",
                checklist_code="line_patrol", assignee_id=inspector.user_id))
            uuids.append(str(task.uuid))
    return uuids, headers


def make_photos(first: int, count: int) -> list[Photo]:
    """Different ~3 MB JPEGs (their hash computed as the phone does before asking to upload)."""
    from tests.media.photo_factory import make_photo  # imported here: `--help` needs no test code

    photos = []
    for number in range(first, first + count):
        data = make_photo(pad_to_bytes=PHOTO_BYTES, seed=number)
        photos.append(Photo(number, data, hashlib.sha256(data).hexdigest()))
    return photos


def _put(http: httpx.Client, upload: dict[str, Any], data: bytes) -> None:
    """The bytes to the presigned URL, or part by part to the parts' URLs."""
    if upload.get("multipart"):
        size = upload["part_size"]
        for part in upload["parts"]:
            start = (part["part_number"] - 1) * size
            http.put(part["url"], content=data[start:start + size]).raise_for_status()
    else:
        http.put(upload["url"], content=data, headers={"Content-Type": "image/jpeg"}).raise_for_status()


def upload_one(api: httpx.Client, s3: httpx.Client, photo: Photo, task_uuid: str, results: Results) -> None:
    """One photo end to end, as the phone does it; the timings go to `results`."""
    body = {"uuid": str(uuid.uuid4()), "link": {"kind": "task", "ref": task_uuid},
            "file_name": f"IMG_{photo.number:04d}.jpg", "content_type": "image/jpeg", "size": len(photo.data),
            "sha256": photo.sha256, "captured_at": datetime.now(UTC).isoformat(),
            "position": {"longitude": HEFEI[0], "latitude": HEFEI[1], "accuracy_m": 5.0}}
    started = time.perf_counter()
    created = api.post("/evidence/uploads", json=body)
    create_ms = (time.perf_counter() - started) * 1000
    if created.status_code not in (200, 201):
        results.failures.append(f"create {created.status_code} {created.text[:200]}")
        return
    evidence_id, upload = created.json()["evidence"]["id"], created.json()["upload"]
    if upload is not None:
        _put(s3, upload, photo.data)
    completed = api.post(f"/evidence/{evidence_id}/complete")
    if completed.status_code not in (200, 202):
        results.failures.append(f"complete {completed.status_code} {completed.text[:200]}")
        return
    deadline = time.monotonic() + VERIFIED_WITHIN_S
    while time.monotonic() < deadline:
        evidence = api.get(f"/evidence/{evidence_id}").json()
        if evidence["state"] in DONE_STATES and {"large", "thumb"} <= set(evidence["variants"]):
            results.create_ms.append(create_ms)
            results.to_verified_ms.append((time.perf_counter() - started) * 1000)
            results.evidence_ids.append(evidence_id)
            return
        if evidence["state"] == "rejected":
            results.failures.append(f"rejected {evidence['reasons']}")
            return
        time.sleep(POLL_S)
    results.failures.append(f"evidence {evidence_id} not verified within {VERIFIED_WITHIN_S:.0f} s")


def raw_put(storage: ObjectStorage, s3: httpx.Client, photo: Photo, run_id: str, results: Results) -> None:
    """The same bytes straight to a presigned S3 PUT under the raw prefix: the floor."""
    url = storage.presigned_put(bucket=storage.settings.evidence_bucket,
                                key=f"{RAW_PREFIX}/{run_id}/{photo.number}", expires=timedelta(hours=1))
    started = time.perf_counter()
    s3.put(url, content=photo.data, headers={"Content-Type": "image/jpeg"}).raise_for_status()
    results.raw_put_ms.append((time.perf_counter() - started) * 1000)


def concurrently(jobs: list[Callable[[], None]], clients: int) -> float:
    """Run the jobs on `clients` threads; the wall time in seconds."""
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        for future in [pool.submit(job) for job in jobs]:
            future.result()
    return time.perf_counter() - started


def run(storage: ObjectStorage, api: httpx.Client, tasks: list[str], photos: int, clients: int) -> Results:
    """Batches of `BATCH` photos, each put raw to S3 and then uploaded through the API."""
    results = Results()
    run_id = uuid.uuid4().hex[:8]
    clients_api = [httpx.Client(base_url=api.base_url, headers=api.headers, timeout=120) for _ in range(clients)]
    s3_clients = [httpx.Client(timeout=120) for _ in range(clients)]
    try:
        for first in range(0, photos, BATCH):
            batch = make_photos(first, min(BATCH, photos - first))
            results.raw_wall_s += concurrently(
                [partial(raw_put, storage, s3_clients[p.number % clients], p, run_id, results) for p in batch],
                clients)
            results.ours_wall_s += concurrently(
                [partial(upload_one, clients_api[p.number % clients], s3_clients[p.number % clients], p,
                         tasks[p.number % len(tasks)], results) for p in batch], clients)
    finally:
        for client in (*clients_api, *s3_clients):
            client.close()
        for number in range(photos):
            storage.remove(bucket=storage.settings.evidence_bucket, key=f"{RAW_PREFIX}/{run_id}/{number}")
    return results


def report(results: Results, photos: int, clients: int, workers: int, worker_concurrency: int) -> None:
    done = len(results.to_verified_ms)
    ours = done / results.ours_wall_s if results.ours_wall_s else 0.0
    raw = len(results.raw_put_ms) / results.raw_wall_s if results.raw_wall_s else 0.0
    mb = PHOTO_BYTES / 1e6
    print(f"machine: {os.cpu_count()} cores; API: uvicorn with {workers} worker process(es); Celery: prefork, "
          f"{worker_concurrency} processes")
    print(f"ours: {done}/{photos} photos of ~{mb:.0f} MB verified with large and thumbnail variants by {clients} "
          f"clients in {results.ours_wall_s:.1f} s: {ours:.2f} photos/s ({ours * mb:.1f} MB/s)")
    if done:
        print(f"  create -> verified: p50 {percentile(results.to_verified_ms, 0.5):.0f} ms, p95 "
              f"{percentile(results.to_verified_ms, 0.95):.0f} ms, max {max(results.to_verified_ms):.0f} ms")
        print(f"  POST /evidence/uploads: p50 {percentile(results.create_ms, 0.5):.1f} ms, p95 "
              f"{percentile(results.create_ms, 0.95):.1f} ms")
    print(f"raw S3 PUT (same files, same clients, interleaved batches of {BATCH}): {len(results.raw_put_ms)} in "
          f"{results.raw_wall_s:.1f} s: {raw:.2f} photos/s ({raw * mb:.1f} MB/s); per PUT p50 "
          f"{percentile(results.raw_put_ms, 0.5):.0f} ms, p95 {percentile(results.raw_put_ms, 0.95):.0f} ms")
    print(f"ours/raw: {ours / raw:.2f} of raw PUT throughput" if raw else "ours/raw: no raw figure")
    print(f"failures: {len(results.failures)} {results.failures[:5]}")


def remove_evidence_objects(storage: ObjectStorage, engine: Engine, evidence_ids: list[int]) -> None:
    """The benchmark's photos leave the bucket with it (600 MB of originals on a shared disk)."""
    with engine.connect() as conn:
        rows = conn.execute(select(Evidence.staging_key, Evidence.original_key, Evidence.derived_keys)
                            .where(Evidence.id.in_(evidence_ids))).all()
    for staging, original, derived in rows:
        for key in (staging, original, *(derived or {}).values()):
            if key:
                storage.remove(bucket=storage.settings.evidence_bucket, key=key, all_versions=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=PHOTOS)
    parser.add_argument("--clients", type=int, default=CLIENTS, help="concurrent uploading clients")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="uvicorn worker processes")
    parser.add_argument("--worker-concurrency", type=int, default=os.cpu_count() or 1,
                        help="Celery prefork processes verifying photos")
    parser.add_argument("--keep-objects", action="store_true", help="leave the photos in the bucket")
    args = parser.parse_args()
    # Before any settings are read: the API server and the worker below inherit the environment.
    os.environ["GW_WORKER_QUEUE"] = f"bench-evidence-{os.getpid()}"
    settings = Settings()
    installed().metadata()  # every domain's models: a task's foreign keys reach cases, users, ...
    owner = create_engine(settings.database.migration_url)
    truncate_data(owner)
    engine = create_db_engine(settings.database)
    storage = ObjectStorage(settings.s3)
    tasks, headers = patrol_tasks(settings, engine, args.clients)
    worker_log = REPO_ROOT / ".gw" / "log" / "bench-evidence-worker.log"
    with celery_worker(settings, name="bench-evidence", concurrency=args.worker_concurrency, log_path=worker_log), \
            api_client(headers, workers=args.workers) as api:
        results = run(storage, api, tasks, args.photos, args.clients)
    report(results, args.photos, args.clients, args.workers, args.worker_concurrency)
    if not args.keep_objects:
        remove_evidence_objects(storage, owner, results.evidence_ids)


if __name__ == "__main__":
    main()
