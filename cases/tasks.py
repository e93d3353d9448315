"""Background jobs of the cases domain."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from celery import shared_task

from cases import service
from core.context import bind_request_id
from core.database import unit_of_work
from core.worker_resources import resources

log = logging.getLogger(__name__)


@shared_task(name="cases.flag_overdue")
def flag_overdue() -> list[int]:
    """Daily (Celery beat): flag and escalate open cases past their working-day deadline."""
    bind_request_id()
    with unit_of_work(resources().session_factory) as db:
        flagged = service.flag_overdue(db=db, now=datetime.now(UTC))
    log.info("overdue check: %d case(s) flagged", len(flagged))
    return flagged
