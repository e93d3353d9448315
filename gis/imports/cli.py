"""`./gw import simbench|geo|resume`, and the demo network `./gw run` loads into an empty database."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from core.context import Actor
from core.database import create_db_engine, create_job_engine, create_session_factory, unit_of_work
from core.errors import Conflict
from core.read_your_writes import positions_client
from core.registry import Domains
from core.settings import JobSettings, Settings
from core.storage import ObjectStorage
from gis.customers.models import Customer
from gis.imports import service as job_service
from gis.imports.lease import job_lease, process_name
from gis.imports.models import JobStatus
from gis.imports.runner import ImportRunner, run_claimed
from gis.imports.settings import ImportSettings
from gis.imports.simbench import DEMO_SUBNET, default_source_dir, import_simbench

MAX_ROW_ERRORS_SHOWN = 50  # as the other commands show a refused input's errors (core.cli)


def load_demo_network(*, settings: Settings, engine: Engine, actor: Actor) -> str:
    """SimBench's demo subnet, once: a database that has customers keeps what it has."""
    with unit_of_work(create_session_factory(engine)) as db:
        if (db.scalar(select(func.count()).select_from(Customer)) or 0) > 0:
            return "demo network: already loaded"
    started = time.perf_counter()
    report = import_simbench(engine=engine, source_dir=default_source_dir(), subnet=DEMO_SUBNET, actor=actor)
    return (f"demo network: SimBench {DEMO_SUBNET} imported in {time.perf_counter() - started:.1f} s "
            f"({report.customers} customers, {report.transformers} transformers, {report.lines} lines)")


def cmd_import_simbench(settings: Settings, args: argparse.Namespace) -> int:
    jobs = settings.section(JobSettings)
    engine = create_job_engine(settings.database, jobs)
    source = Path(args.dir) if args.dir else default_source_dir()
    started = time.perf_counter()
    report = import_simbench(engine=engine, source_dir=source, subnet=args.subnet, actor=Actor.system("import"),
                             progress=lambda f, m: print(f"  {time.perf_counter() - started:7.1f} s {f:4.0%} {m}",
                                                         flush=True),
                             zone_chunk_lines=jobs.zone_chunk_lines,
                             chunk_rows=settings.section(ImportSettings).chunk_rows)
    for key, value in report.counts().items():
        print(f"{key:>31}: {value}")
    print(f"{'seconds':>31}: {report.seconds}")
    engine.dispose()
    return 0


def cmd_import_geo(settings: Settings, args: argparse.Namespace) -> int:
    """A geo file imported as an import job, the same as an upload through the API (its file in the
    imports bucket, the job in `import_jobs`), run here in the foreground in committed chunks."""
    path = Path(args.file)
    runner = _runner(settings, args.domains)
    with unit_of_work(runner.sessions, work=f"Storing {path.name} for its import") as db:
        job = job_service.store_geo_import(db=db, actor=Actor.system("import"), storage=runner.storage,
                                           layer=args.layer, filename=path.name, crs=args.crs, data=path.read_bytes())
        job_id = job.id
    print(f"import job {job_id}: {args.layer} from {path.name}", flush=True)
    return _run_in_foreground(runner, job_id)


def cmd_import_resume(settings: Settings, args: argparse.Namespace) -> int:
    """A failed (or interrupted) import job run again: it continues after its last committed chunk."""
    runner = _runner(settings, args.domains)
    with unit_of_work(runner.sessions) as db:
        job_service.resume(db=db, actor=Actor.system("import"), job_id=args.job_id)
    return _run_in_foreground(runner, args.job_id)


def _runner(settings: Settings, domains: Domains) -> ImportRunner:
    """The worker's arrangement (`gis.imports.tasks`) in this process: the application engine for the
    job's bookkeeping, the job engine for its chunks, the installed domains' event handlers on both."""
    engine = create_db_engine(settings.database)
    job_engine = create_job_engine(settings.database, settings.section(JobSettings))
    handlers = domains.event_handlers()
    return ImportRunner(settings=settings, sessions=create_session_factory(engine, handlers), job_engine=job_engine,
                        job_sessions=create_session_factory(job_engine, handlers), storage=ObjectStorage(settings.s3),
                        redis=positions_client(settings))


def _run_in_foreground(runner: ImportRunner, job_id: int) -> int:
    """Hold the job's lease, claim it and run it, printing its progress; then say how it ended."""
    started = time.perf_counter()

    def echo(fraction: float, message: str) -> None:
        print(f"  {time.perf_counter() - started:7.1f} s {fraction:4.0%} {message}", flush=True)

    try:
        with job_lease(runner.job_engine, job_id) as taken:
            if not taken:
                raise Conflict(f"Import job {job_id} is running in another process; its progress is on the job.")
            with unit_of_work(runner.sessions) as db:
                claim = job_service.claim(db=db, job_id=job_id, worker=f"command line {process_name()}")
            if claim is None:
                raise Conflict(f"Import job {job_id} has nothing left to run: it has succeeded.")
            run_claimed(runner, claim, echo=echo)
        with unit_of_work(runner.sessions) as db:
            job = job_service.get(db=db, job_id=job_id)
            status, message, errors = job.status, job.message, list(job.row_errors or [])
    finally:
        runner.job_engine.dispose()
    if status == JobStatus.succeeded:
        print(f"import job {job_id}: {message}")
        return 0
    print(f"error: import job {job_id} failed: {message}", file=sys.stderr)
    for err in errors[:MAX_ROW_ERRORS_SHOWN]:
        print(f"  {err}", file=sys.stderr)
    if not errors:  # a file refused for its rows needs a corrected file, not another run
        print(f"  it continues after its last committed chunk with: ./gw import resume {job_id}", file=sys.stderr)
    return 1


def add_commands(sub: Any) -> None:
    imp = sub.add_parser("import", help="import data").add_subparsers(dest="import_command", required=True)
    simbench = imp.add_parser("simbench", help="import SimBench CSV data (default: the simbench package's set)")
    simbench.add_argument("--subnet", help="subnet prefix, e.g. MV1.101 (with its LV grids)")
    simbench.add_argument("dir", nargs="?", help="directory with the SimBench CSV files")
    simbench.set_defaults(func=cmd_import_simbench)
    geo = imp.add_parser("geo", help="import a layer from GeoJSON or GeoPackage as an import job, in chunks "
                                     "(a file with a bad row writes nothing)")
    geo.add_argument("layer")
    geo.add_argument("file")
    geo.add_argument("--crs", help="EPSG code of the file's coordinates if the file does not say")
    geo.set_defaults(func=cmd_import_geo)
    resume = imp.add_parser("resume", help="run a failed or interrupted import job again, after its last chunk")
    resume.add_argument("job_id", type=int)
    resume.set_defaults(func=cmd_import_resume)
