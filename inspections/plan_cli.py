"""`./gw tasks plan [--date D]`: run the daily plan job now, for today or another day."""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from core.context import Actor, bind_request_id
from core.database import create_db_engine, create_session_factory
from core.settings import Settings
from inspections.plan_jobs import run_plans


def cmd_tasks_plan(settings: Settings, args: argparse.Namespace) -> int:
    bind_request_id()
    engine = create_db_engine(settings.database)
    try:
        run = run_plans(session_factory=create_session_factory(engine), settings=settings,
                        actor=Actor.system("cli"), run_on=args.date)
    finally:
        engine.dispose()
    for code, count in run.created.items():
        print(f"  {code:<28} {count} task(s)")
    print(f"plans: {sum(run.created.values())} task(s) due on {run.run_on.isoformat()} created")
    return 0


def add_commands(sub: Any) -> None:
    tasks = sub.add_parser("tasks", help="field tasks").add_subparsers(dest="tasks_command", required=True)
    plan = tasks.add_parser("plan", help="create the tasks the inspection plans make due (idempotent)")
    plan.add_argument("--date", type=date.fromisoformat, default=None,
                      help="the day to plan (ISO 8601, default today in the utility's time zone)")
    plan.set_defaults(func=cmd_tasks_plan)
