"""A Celery worker killed with SIGKILL in the middle of an import: the job resumes on another
worker and finishes exactly once, with nothing of the chunk the dead attempt had not committed (an
import writes in committed chunks, `GW_IMPORTS_CHUNK_ROWS`; these 600 rows are one chunk)."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, text

from core.permissions import Role
from core.settings import Settings
from tests.faults.conftest import WorkerProcess, wait_for
from tests.jobs import import_job, lines_geojson, queue_geo_import

ROWS = 600  # the import reports progress every 200 rows: it is killed with most of the file still to write


def _scalar(engine: Engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar_one())


def _wait_mid_import(owner_engine: Engine, job_id: int, worker: WorkerProcess) -> dict[str, Any]:
    def mid_way() -> dict[str, Any] | None:
        job = import_job(owner_engine, job_id)
        return job if job["status"] == "running" and 0 < job["progress"] < 1 else None

    try:
        return wait_for("the import to be part-way", mid_way, timeout_s=180, interval_s=0.02)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{worker.log_tail()}") from exc


def _wait_finished(owner_engine: Engine, job_id: int, worker: WorkerProcess) -> dict[str, Any]:
    def finished() -> dict[str, Any] | None:
        job = import_job(owner_engine, job_id)
        return job if job["status"] in {"succeeded", "failed"} else None

    try:
        return wait_for("the job to finish", finished, timeout_s=300, interval_s=0.2)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{worker.log_tail()}") from exc


def _assert_imported_exactly_once(owner_engine: Engine, job: dict[str, Any]) -> None:
    assert job["status"] == "succeeded", job
    assert job["attempts"] == 2, job
    assert job["counts"] == {"total": ROWS, "created": ROWS, "updated": 0, "unchanged": 0}
    assert _scalar(owner_engine, "SELECT count(*) FROM lines") == ROWS
    assert _scalar(owner_engine, "SELECT count(DISTINCT external_id) FROM lines") == ROWS
    assert _scalar(owner_engine, "SELECT count(*) FROM audit_log WHERE action = 'line.create'") == ROWS
    assert _scalar(owner_engine, "SELECT count(*) FROM outbox_events WHERE event_type = 'line.created'") == ROWS
    assert _scalar(owner_engine, "SELECT count(*) FROM audit_log WHERE action = 'import.started'") == 2
    assert _scalar(owner_engine, "SELECT count(*) FROM audit_log WHERE action = 'import.succeeded'") == 1


def _assert_nothing_written(owner_engine: Engine) -> None:
    """Nothing of the chunk in progress when the worker died (here the whole file is one chunk)."""
    assert _scalar(owner_engine, "SELECT count(*) FROM lines") == 0
    assert _scalar(owner_engine, "SELECT count(*) FROM audit_log WHERE action = 'line.create'") == 0
    assert _scalar(owner_engine, "SELECT count(*) FROM outbox_events") == 0


def test_whole_worker_killed_mid_import_the_next_worker_resumes_it_and_it_finishes_once(
    queue_settings: Settings, auth: Callable[[Role], dict[str, str]], owner_engine: Engine,
    start_worker: Callable[..., WorkerProcess],
) -> None:
    job_id = queue_geo_import(queue_settings, auth(Role.dispatcher), lines_geojson(ROWS, prefix="K"))
    first = start_worker("faults-first")
    _wait_mid_import(owner_engine, job_id, first)

    first.kill_group()

    assert import_job(owner_engine, job_id)["status"] == "running"  # nobody has told the database
    _assert_nothing_written(owner_engine)
    replacement = start_worker("faults-replacement")
    _assert_imported_exactly_once(owner_engine, _wait_finished(owner_engine, job_id, replacement))


def test_pool_child_killed_mid_import_celery_redelivers_it_and_it_finishes_once(
    queue_settings: Settings, auth: Callable[[Role], dict[str, str]], owner_engine: Engine,
    start_worker: Callable[..., WorkerProcess],
) -> None:
    job_id = queue_geo_import(queue_settings, auth(Role.dispatcher), lines_geojson(ROWS, prefix="K"))
    worker = start_worker("faults-pool")
    running = _wait_mid_import(owner_engine, job_id, worker)
    child_pid = int(running["worker"].rsplit(":", 1)[1])
    assert child_pid != worker.process.pid  # the prefork child that runs the task, not the main process

    os.kill(child_pid, signal.SIGKILL)

    _assert_imported_exactly_once(owner_engine, _wait_finished(owner_engine, job_id, worker))
