"""Background jobs of the vector tiles."""

from __future__ import annotations

import logging

from celery import shared_task

from core.context import bind_request_id
from core.database import unit_of_work
from core.worker_resources import resources
from gis.layers.tiles.changes import prune_change_log

log = logging.getLogger(__name__)


@shared_task(name="tiles.prune_change_log")
def prune() -> int:
    """Daily (Celery beat): empty the tile change log and move its epoch (`changes.prune_change_log`)."""
    bind_request_id()
    with unit_of_work(resources().session_factory) as db:
        removed = prune_change_log(db=db)
    log.info("tile change log pruned: %d box(es)", removed)
    return removed
