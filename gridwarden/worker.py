"""Composition root of the Celery worker: `celery -A gridwarden.worker:celery_app worker`.

Settings are read from the environment here, at the edge, exactly like `api.app.create_app_from_env`.
The worker consumes `GW_WORKER_QUEUE` (default `celery`), where the API sends its jobs, runs the
installed domains' tasks and, with `--beat`, their periodic jobs.
"""

from __future__ import annotations

from typing import Any

from celery.signals import worker_ready

from core.celery_app import create_celery
from core.settings import Settings
from core.worker_resources import configure
from gridwarden.domains import installed

_settings = Settings()
configure(_settings, installed())
celery_app = create_celery(_settings, installed())


@worker_ready.connect
def _send_start_up_tasks(**_kwargs: Any) -> None:
    """Tasks the domains ask for when a worker starts, such as relaying work a lost worker left."""
    for task in installed().worker_ready_tasks():
        celery_app.send_task(task)
