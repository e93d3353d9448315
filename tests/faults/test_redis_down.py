"""Redis down: what needs the queue answers 503 with Retry-After and stores nothing; reads and
screenings, which do not need it, keep working; a job committed while Redis refused writes is not
lost but sent by the relay once Redis takes work again."""

from __future__ import annotations

import json
from collections.abc import Callable

from celery import Celery
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, text

from api.app import create_app
from core.celery_app import create_celery
from core.permissions import Role
from core.settings import RedisSettings, Settings
from tests.faults.conftest import ThrowAwayRedis, WorkerProcess, free_port, wait_for

LINE = {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[121.0, 31.0], [121.01, 31.0]]},
        "properties": {"external_id": "R-1", "construction": "overhead", "nominal_kv": 10, "conductor_spread_m": 1.5}}
UPLOAD = {"file": ("lines.geojson", json.dumps({"type": "FeatureCollection", "features": [LINE]}).encode(),
                   "application/geo+json")}


def _on_redis(settings: Settings, url: str) -> Settings:
    return settings.model_copy(update={"redis": RedisSettings(url=SecretStr(url))})


def _count(engine: Engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar_one())


def _assert_queue_unavailable(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["service"] == "redis"


def test_with_redis_refusing_connections_queueing_is_503_with_nothing_stored_and_reads_work(
    settings: Settings, auth: Callable[[Role], dict[str, str]], owner_engine: Engine,
) -> None:
    closed_port = free_port()  # nothing listens there: every connection is refused
    headers = auth(Role.dispatcher)
    with TestClient(create_app(_on_redis(settings, f"redis://127.0.0.1:{closed_port}/0")),
                    raise_server_exceptions=False) as client:
        created = client.post("/api/v1/network/lines", json=LINE, headers=headers)
        with owner_engine.begin() as conn:
            failed_job = conn.execute(text(
                "INSERT INTO import_jobs (kind, source_name, status, progress, message, counts, row_errors, "
                "created_by) VALUES ('simbench', 'MV1.101', 'failed', 0, 'failed', '{}', '[]', 'test') "
                "RETURNING id")).scalar_one()
        audit_before = _count(owner_engine, "SELECT count(*) FROM audit_log")

        geo = client.post("/api/v1/imports/geo", headers=headers, data={"layer": "lines"}, files=UPLOAD)
        simbench = client.post("/api/v1/imports/simbench", headers=headers, json={"subnet": "MV1.101"})
        retry = client.post(f"/api/v1/imports/{failed_job}/retry", headers=headers)
        audit_after = _count(owner_engine, "SELECT count(*) FROM audit_log")

        reads = {path: client.get(path, headers=headers).status_code for path in (
            "/api/v1/network/lines", "/api/v1/customers", "/api/v1/zones", f"/api/v1/imports/{failed_job}")}
        screening = client.post("/api/v1/screenings", headers=headers, json={
            "geometry": {"type": "Point", "coordinates": [121.005, 31.0001]}, "activity": "building", "parameters": {"height_m": 12}})

    assert created.status_code == 201, created.text
    for response in (geo, simbench, retry):
        _assert_queue_unavailable(response)
    assert _count(owner_engine, "SELECT count(*) FROM import_jobs") == 1
    assert _count(owner_engine, "SELECT count(*) FROM import_jobs WHERE status = 'failed'") == 1
    assert audit_after == audit_before
    assert reads == dict.fromkeys(reads, 200)
    assert screening.status_code == 201, screening.text


def test_a_job_committed_while_redis_refuses_writes_is_accepted_and_the_relay_runs_it_once_redis_is_back(
    settings: Settings, job_queue: str, auth: Callable[[Role], dict[str, str]], owner_engine: Engine,
    throwaway_redis: ThrowAwayRedis, start_worker: Callable[..., WorkerProcess],
) -> None:
    # Out of memory: Redis still answers (the pre-check passes) but refuses every write, the
    # enqueue after the commit included.
    throwaway_redis.client.config_set("maxmemory-policy", "noeviction")
    throwaway_redis.client.config_set("maxmemory", "1")
    on_broken = _on_redis(settings, throwaway_redis.url)
    on_broken = on_broken.model_copy(update={"worker": on_broken.worker.model_copy(update={"queue": job_queue})})
    with TestClient(create_app(on_broken), raise_server_exceptions=False) as client:
        queued = client.post("/api/v1/imports/geo", headers=auth(Role.dispatcher), data={"layer": "lines"},
                             files=UPLOAD)

    assert queued.status_code == 202, queued.text
    job_id = queued.json()["id"]
    assert queued.json()["status"] == "queued"
    assert throwaway_redis.client.llen(job_queue) == 0  # the message really was not queued

    throwaway_redis.client.config_set("maxmemory", "0")
    broker: Celery = create_celery(on_broken)
    worker = start_worker("faults-relay", celery=broker, GW_REDIS_URL=throwaway_redis.url,
                          GW_WORKER_RELAY_AFTER_S="0")

    def finished() -> str | None:
        with owner_engine.connect() as conn:
            status = conn.execute(text("SELECT status FROM import_jobs WHERE id = :id"), {"id": job_id}).scalar_one()
        return status if status in {"succeeded", "failed"} else None

    try:
        assert wait_for("the relayed job to finish", finished, timeout_s=120, interval_s=0.2) == "succeeded"
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{worker.log_tail()}") from exc
    assert _count(owner_engine, "SELECT count(*) FROM lines WHERE external_id = 'R-1'") == 1
    assert _count(owner_engine, "SELECT count(*) FROM audit_log WHERE action = 'import.succeeded'") == 1
