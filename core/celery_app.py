"""The Celery application, built from settings by the composition roots (API, worker, CLI).

Tasks are declared with `@shared_task` in each domain's `tasks.py`; they receive ids, never ORM
objects, and open their own unit of work through `core.worker_resources`.
"""

from __future__ import annotations

from celery import Celery
from celery.schedules import crontab

from core.settings import Settings

TASK_MODULES = ["gis.imports.tasks", "cases.tasks"]


def create_celery(settings: Settings) -> Celery:
    url = settings.redis.url.get_secret_value()
    app = Celery("gridwarden", broker=url, backend=url, include=TASK_MODULES)
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
        beat_schedule={
            # Once a day, after midnight in the utility's time zone (Asia/Shanghai 00:30 = 16:30 UTC).
            "flag-overdue-cases": {"task": "cases.flag_overdue",
                                   "schedule": crontab(hour=settings.workflow.overdue_check_hour_utc, minute=30)},
            # Import jobs whose message was lost (queue down at commit) or whose worker died.
            "relay-import-jobs": {"task": "imports.relay", "schedule": float(settings.worker.relay_interval_s)},
        },
    )
    return app
