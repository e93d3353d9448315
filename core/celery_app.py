"""The Celery application, built from settings by the composition roots (API, worker, CLI).

Tasks are declared with `@shared_task` in each domain's `tasks.py`; they receive ids, never ORM
objects, and open their own unit of work through `core.worker_resources`. The worker passes the
installed domains, whose task modules it imports and whose periodic jobs beat runs; a process that
only sends tasks by name (the API, the tests) needs neither.
"""

from __future__ import annotations

from celery import Celery

from core.registry import Domains
from core.settings import Settings


def create_celery(settings: Settings, domains: Domains | None = None) -> Celery:
    url = settings.redis.url.get_secret_value()
    app = Celery("gridwarden", broker=url, backend=url, include=domains.task_modules() if domains else [])
    app.conf.update(
        # A task whose worker dies is redelivered, not lost: acknowledged only when it ends, and put
        # back at once when a pool child is killed. Tasks are written to be run again safely.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_default_queue=settings.worker.queue,
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
