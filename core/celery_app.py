"""The Celery application, built from settings by the composition roots (API, worker, CLI).

Tasks are declared with `@shared_task` in each domain's `tasks.py`; they receive ids, never ORM
objects, and open their own unit of work through `core.worker_resources`. The worker passes the
installed domains, whose task modules it imports and whose periodic jobs beat runs; a process that
only sends tasks by name (the API, the tests) needs neither.

Each kind of job has its own queue (`WorkerSettings.task_kinds`: imports, verification, planning,
events; the rest on the default queue), so that a worker busy with a long import never holds up an
event or a photo check. A worker started without `-Q` consumes every queue (one node: nothing
changes); the scale set-up (`devstack.worker_pool`) gives each worker its own queues.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from kombu import Queue

from core.registry import Domains
from core.settings import Settings, WorkerSettings


def task_router(worker: WorkerSettings) -> Any:
    """A Celery router sending each task to its kind's queue (a task of no kind: the default queue)."""

    def route(name: str, args: Any, kwargs: Any, options: Any, task: Any = None, **_kw: Any) -> dict[str, str]:
        return {"queue": worker.queue_of_kind(worker.kind_of(name))}

    return route


def create_celery(settings: Settings, domains: Domains | None = None) -> Celery:
    url = settings.redis.url.get_secret_value()
    app = Celery("gridwarden", broker=url, backend=url, include=domains.task_modules() if domains else [])
    app.conf.update(
        # A task whose worker dies is redelivered, not lost: acknowledged only when it ends, and put
        # back at once when a pool child is killed. Tasks are written to be run again safely.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_default_queue=settings.worker.queue,
        task_queues=[Queue(name) for name in settings.worker.queues()],
        task_routes=(task_router(settings.worker),),
        worker_prefetch_multiplier=1,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": settings.worker.visibility_timeout_s},
        result_expires=7 * 24 * 3600,
        timezone="UTC",
        beat_schedule=domains.beat_schedule(settings) if domains else {},
    )
    return app
