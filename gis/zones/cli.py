"""`./gw zones rebuild`, and the derived zones a database migrated before zones existed lacks."""

from __future__ import annotations

import argparse
import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.context import Actor
from core.database import create_job_engine, create_session_factory
from core.settings import JobSettings, Settings
from gis.imports.lease import process_name
from gis.network.models import Line
from gis.zones import service as zone_service
from gis.zones.models import LineZone


def derive_missing_zones(*, db: Session) -> str | None:
    """A database that had lines before derived zones existed gets them once, after migrating; from
    then on every line change keeps its zones current in the same transaction."""
    if db.scalar(select(Line.id).limit(1)) and not db.scalar(select(LineZone.id).limit(1)):
        return f"zones: {zone_service.rebuild_all_zones(db=db)} derived zone parts built"
    return None


def cmd_zones_rebuild(settings: Settings, _args: argparse.Namespace) -> int:
    """Rebuild every derived zone as a job in chunks (`zone_service.run_rebuild`) on the job engine,
    whose statement timeout is the jobs' (`GW_JOBS_STATEMENT_TIMEOUT_MS`), not the API's; prints
    the progress after each chunk. A rebuild that failed is continued by running this again."""
    jobs = settings.section(JobSettings)
    engine = create_job_engine(settings.database, jobs)
    started = time.perf_counter()

    def report(progress: zone_service.RebuildProgress) -> None:
        if progress.lines_done == 0 or progress.resumed:
            start = f"resuming after line id {progress.through_line_id}" if progress.resumed else "starting"
            print(f"zones: rebuild job {progress.job_id} {start}: {progress.lines_total} lines in chunks of "
                  f"{jobs.zone_chunk_lines}", flush=True)
            return
        print(f"zones: {progress.fraction:6.1%}  {progress.lines_done}/{progress.lines_total} lines, "
              f"{progress.zone_parts} zone parts, {time.perf_counter() - started:.1f} s", flush=True)

    try:
        done = zone_service.run_rebuild(session_factory=create_session_factory(engine), engine=engine,
                                        actor=Actor.system("cli"), chunk_lines=jobs.zone_chunk_lines,
                                        worker=process_name(), report=report)
    finally:
        engine.dispose()
    print(f"zones: {done.zone_parts} derived zone parts rebuilt in {time.perf_counter() - started:.1f} s "
          f"(job {done.job_id})")
    return 0


def add_commands(sub: Any) -> None:
    zones = sub.add_parser("zones", help="protection zones").add_subparsers(dest="zones_command", required=True)
    zones.add_parser("rebuild", help="recompute every derived zone").set_defaults(func=cmd_zones_rebuild)
