"""Background job of sync push: the backlog's periodic pass (Celery beat, every
`GW_SYNC_PUSH_BACKLOG_CHECK_MINUTES`). Parents can arrive by other ways than a push (a dispatcher
creating the task in the console), and old items must age out even when no device pushes."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from celery import shared_task

from core.context import bind_request_id
from core.database import unit_of_work
from core.worker_resources import resources
from inspections.sync import backlog

log = logging.getLogger(__name__)


@shared_task(name="inspections.sync.process_backlog")
def process_backlog() -> dict[str, int]:
    """Apply waiting items whose parent has arrived; move those past the age limit to the dispatcher."""
    bind_request_id()
    worker = resources()
    with unit_of_work(worker.session_factory) as db:
        now = datetime.now(UTC)
        applied = backlog.apply_waiting(db=db, now=now, settings=worker.settings)
        expired = backlog.expire(db=db, now=now, settings=worker.settings)
    log.info("sync backlog: %d applied, %d expired", len(applied), len(expired))
    return {"applied": len(applied), "expired": len(expired)}

