"""Composition root of the Celery worker: `celery -A core.worker:celery_app worker`.

Settings are read from the environment here, at the edge, exactly like `api.app.create_app_from_env`.
The worker consumes `GW_WORKER_QUEUE` (default `celery`), where the API sends its jobs.
"""

from __future__ import annotations

from typing import Any

from celery.signals import worker_ready

from core.celery_app import create_celery
from core.settings import Settings
from core.worker_resources import configure

_settings = Settings()
configure(_settings)
celery_app = create_celery(_settings)


@worker_ready.connect
def _relay_on_start(**_kwargs: Any) -> None:
    """A worker that starts (e.g. replacing one that was killed) first sends the relay, so a job
    orphaned by a lost worker resumes now rather than at the next beat or after the broker's
    visibility timeout."""
    celery_app.send_task("imports.relay")
