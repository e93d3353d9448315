"""Celery queues per kind of job (issue 14): a long import never delays an event or a photo check, the
single worker of one node still takes every kind, and an import whose worker is killed finishes once on
the other worker.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.celery_app import create_celery
from core.permissions import Role
from core.settings import Settings, WorkerSettings
from core.storage import ObjectStorage
from devstack.worker_pool import WorkerPool, kill_pool_worker
from gridwarden.domains import installed
from media.models import EvidenceState
from tests.faults.conftest import wait_for
from tests.faults.test_worker_killed import ROWS, _assert_imported_exactly_once
from tests.jobs import import_job, lines_geojson, queue_geo_import
from tests.media.evidence_helpers import create_line_task, photo_near_line, stage, verified
from tests.scale.conftest import LAYOUT

SLOW_IMPORT_ROWS = 1500  # ~15 s here: long enough that a photo check and an event relay both run while it does
PROMPT_S = 20  # "promptly": a photo check and a relay take well under a second; this is the slack for a busy machine
IMPORT_DEADLINE_S = 300
# The scale split (devstack.worker_pool.SCALE_WORKERS): imports alone, everything quick on the other worker.
SPLIT = (("imports",), ("default", "events", "verification", "planning"))
BOTH_ON_IMPORTS = (("imports", "default"), ("imports", "default"))


def _running(engine: Engine, job_id: int) -> dict[str, Any] | None:
    job = import_job(engine, job_id)
    return job if job["status"] == "running" and job["progress"] < 1 else None


def test_each_kind_of_job_goes_to_its_own_queue_and_a_task_of_no_kind_to_the_default(settings: Settings) -> None:
    router = create_celery(settings).amqp.router  # what the API sends with
    celery_app = create_celery(settings, installed())  # what the worker runs: every installed domain's tasks
    base = settings.worker.queue
    expected = {"imports.run": f"{base}.imports", "media.verify": f"{base}.verification",
                "routing.solve_plan": f"{base}.planning", "events.relay": f"{base}.events",
                "events.deliver": f"{base}.events",
                # the relays are quick and must not wait behind the job they re-send
                "imports.relay": base, "media.relay": base, "routing.relay": base, "cases.flag_overdue": base}
    celery_app.loader.import_default_modules()  # what a worker does as it starts: the domains' task modules
    tasks = {name for name in celery_app.tasks if not name.startswith("celery.")}

    assert expected.keys() <= tasks
    assert {name: router.route({}, name)["queue"].name for name in expected} == expected
    assert {router.route({}, name)["queue"].name for name in tasks} <= set(settings.worker.queues())


def test_the_kinds_are_settings_the_longest_matching_name_wins() -> None:
    worker = WorkerSettings(queue="gw", task_kinds={"imports.": "imports", "imports.relay": "relays"})

    assert worker.queue_of_kind(worker.kind_of("imports.run")) == "gw.imports"
    assert worker.queue_of_kind(worker.kind_of("imports.relay")) == "gw.relays"
    assert worker.queue_of_kind(worker.kind_of("importsx.run")) == "gw"  # a prefix ends at a dot
    assert worker.queues() == ["gw", "gw.imports", "gw.relays"]
    with pytest.raises(ValidationError):
        WorkerSettings(task_kinds={"imports.run": "Imports Queue!"})


def test_the_single_worker_of_one_node_consumes_every_kind_of_job(
        celery_worker: object, settings: Settings) -> None:
    replies = create_celery(settings).control.inspect(
        destination=[f"gw-test@{socket.gethostname()}"], timeout=5).active_queues()

    assert replies, "the session's worker did not answer"
    consumed = {queue["name"] for queues in replies.values() for queue in queues}
    assert consumed == set(settings.worker.queues())
    assert set(settings.worker.queues()) == {settings.worker.queue, *(f"{settings.worker.queue}.{kind}" for kind in
                                                                      ("imports", "verification", "planning", "events"))}


def test_a_long_import_does_not_delay_a_photo_check_or_an_event_relay(
        worker_pool: Callable[..., WorkerPool], queue_settings: Settings, queue_celery: Celery, owner_engine: Engine,
        session_factory: sessionmaker[Session], storage: ObjectStorage, role_users: dict[Role, int],
        auth: Callable[[Role], dict[str, str]]) -> None:
    worker_pool(SPLIT)
    job_id = queue_geo_import(queue_settings, auth(Role.dispatcher), lines_geojson(SLOW_IMPORT_ROWS, prefix="K"))
    wait_for("the import to be running", lambda: _running(owner_engine, job_id), timeout_s=IMPORT_DEADLINE_S,
             interval_s=0.05)
    now = datetime.now(UTC)
    task_id, task_uuid = create_line_task(session_factory, now)
    staged = stage(session_factory, storage, queue_settings, photo_near_line(now), kind="task", ref=task_uuid,
                   record_id=task_id, uploaded_by=role_users[Role.dispatcher])

    started = time.monotonic()
    evidence = verified(queue_settings, session_factory, staged.evidence_id, timeout_s=PROMPT_S)
    photo_s = time.monotonic() - started
    relayed = queue_celery.send_task("events.relay")
    relayed.get(timeout=PROMPT_S)
    relay_s = time.monotonic() - started - photo_s
    still_importing = _running(owner_engine, job_id) is not None
    job = wait_for("the import to finish", lambda: (j if (j := import_job(owner_engine, job_id))["status"] != "running"
                                                    and j["status"] != "queued" else None),
                   timeout_s=IMPORT_DEADLINE_S, interval_s=0.2)
    import_s = time.monotonic() - started

    assert evidence.state == EvidenceState.verified, evidence.last_error
    assert still_importing  # both were answered while the import was still running on the other worker
    assert job["status"] == "succeeded", job
    print(f"\nwhile a {SLOW_IMPORT_ROWS}-row import ran (finished {import_s:.1f} s after the photo was sent): "
          f"photo check {photo_s:.2f} s, event relay {relay_s:.2f} s")


def _worker_of_job(pool: WorkerPool, job: dict[str, Any]) -> str:
    """The pool worker whose prefork child runs the job (the job records host:pid of the child)."""
    child = int(job["worker"].rsplit(":", 1)[1])
    parent = int(Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[1])
    return next(worker.name for worker in pool.workers if worker.pid == parent)


def test_a_worker_killed_mid_import_the_other_worker_finishes_it_once(
        worker_pool: Callable[..., WorkerPool], queue_settings: Settings, owner_engine: Engine,
        auth: Callable[[Role], dict[str, str]]) -> None:
    # Beat's import relay (every second here) re-sends a running job whose worker's lease is gone.
    pool = worker_pool(BOTH_ON_IMPORTS, beat=True, GW_WORKER_RELAY_INTERVAL_S="1")
    job_id = queue_geo_import(queue_settings, auth(Role.dispatcher), lines_geojson(ROWS, prefix="K"))
    running = wait_for("the import to be part-way", lambda: (j if (j := _running(owner_engine, job_id))
                                                             and j["progress"] > 0 else None),
                       timeout_s=IMPORT_DEADLINE_S, interval_s=0.02)
    victim = _worker_of_job(pool, running)

    kill_pool_worker(LAYOUT, pool=pool.name, name=victim)

    job = wait_for("the job to finish", lambda: (j if (j := import_job(owner_engine, job_id))["status"]
                                                 in {"succeeded", "failed"} else None),
                   timeout_s=IMPORT_DEADLINE_S, interval_s=0.2)
    _assert_imported_exactly_once(owner_engine, job)
    assert _worker_of_job(pool, job) != victim  # the other worker finished it
