"""Background jobs of offline sync."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from celery import shared_task

from core.context import Actor, bind_request_id
from core.database import unit_of_work
from core.worker_resources import resources
from inspections.sync import positions

log = logging.getLogger(__name__)

RETENTION_ACTOR = Actor.system("gps-retention")


@shared_task(name="inspections.sync.purge_old_pings")
def purge_old_pings() -> int:
    """Daily (Celery beat): delete GPS pings older than the retention."""
    bind_request_id()
    work = resources()
    with unit_of_work(work.session_factory) as db:
        deleted = positions.purge_old_pings(db=db, actor=RETENTION_ACTOR, settings=work.settings,
                                            now=datetime.now(UTC))
    log.info("gps retention: %d ping(s) deleted", deleted)
    return deleted
