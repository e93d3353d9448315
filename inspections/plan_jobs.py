"""The plan job as Celery runs it (daily, from beat) and as the CLI runs it (`./gw tasks plan`)."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

from celery import shared_task
from sqlalchemy.orm import Session, sessionmaker

from core.context import Actor, bind_request_id
from core.database import unit_of_work
from core.settings import Settings
from core.worker_resources import resources
from inspections import plan_runs
from inspections.plan_settings import plan_settings

log = logging.getLogger(__name__)


def run_plans(*, session_factory: sessionmaker[Session], settings: Settings, actor: Actor,
              run_on: date | None = None) -> plan_runs.PlanRun:
    """One run in its own unit of work, for `run_on` (default: today in the utility's time zone)."""
    zone = plan_settings(settings).zone
    day = run_on or plan_runs.local_today(datetime.now(UTC), zone)
    with unit_of_work(session_factory) as db:
        return plan_runs.create_due_tasks(db=db, actor=actor, run_on=day, zone=zone)


@shared_task(name="inspections.create_due_tasks")
def create_due_tasks(run_on: str | None = None) -> dict[str, int]:
    """Daily (Celery beat): the tasks that fall due today; `run_on` (ISO date) plans another day."""
    bind_request_id()
    worker = resources()
    run = run_plans(session_factory=worker.session_factory, settings=worker.settings,
                    actor=Actor.system("plan-job"), run_on=date.fromisoformat(run_on) if run_on else None)
    log.info("plan job for %s: %d task(s) created", run.run_on, sum(run.created.values()))
    return run.created
