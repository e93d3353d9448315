"""Composition root of the Celery worker: `celery -A core.worker:celery_app worker`.

Settings are read from the environment here, at the edge, exactly like `api.app.create_app_from_env`.
"""

from __future__ import annotations

from core.celery_app import create_celery
from core.settings import Settings
from core.worker_resources import configure

_settings = Settings()
configure(_settings)
celery_app = create_celery(_settings)
