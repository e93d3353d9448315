"""`./gw rule-sets load FILE`: a utility's own rule set, immutable per code and version (`rules` is
the command's name before rule sets had one name; it still works)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from core.context import Actor
from core.database import create_job_engine, create_session_factory, unit_of_work
from core.settings import JobSettings, Settings
from gis.rule_sets import service as rule_set_service
from gis.zones import service as zone_service


def cmd_rules_load(settings: Settings, args: argparse.Namespace) -> int:
    # Whole-network work (every zone rebuilt, a road network replaced): the jobs' statement timeout.
    engine = create_job_engine(settings.database, settings.section(JobSettings))
    with unit_of_work(create_session_factory(engine)) as db:
        content = rule_set_service.read_rule_set_file(Path(args.file))
        row, created = zone_service.load_rule_set(db=db, actor=Actor.system("cli"), content=content)
    print(f"rule set {row.code} {row.version}: {'loaded' if created else 'already loaded, unchanged'}")
    engine.dispose()
    return 0


def add_commands(sub: Any) -> None:
    rules = sub.add_parser("rule-sets", aliases=["rules"], help="rule sets"
                           ).add_subparsers(dest="rule_sets_command", required=True)
    load = rules.add_parser("load", help="load a rule-set JSON file (immutable per code and version)")
    load.add_argument("file")
    load.set_defaults(func=cmd_rules_load)
