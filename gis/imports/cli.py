"""`./gw import simbench|geo`, and the demo network `./gw run` loads into an empty database."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from core.context import Actor
from core.database import create_job_engine, create_session_factory, unit_of_work
from core.settings import JobSettings, Settings
from gis.customers.models import Customer
from gis.imports import geofile
from gis.imports.settings import ImportSettings
from gis.imports.simbench import DEMO_SUBNET, default_source_dir, import_simbench


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
    path = Path(args.file)
    layer = geofile.layer_by_name(args.layer)
    source = geofile.read_source(path.read_bytes(), path.name, crs=args.crs)
    engine = create_job_engine(settings.database, settings.section(JobSettings))
    with unit_of_work(create_session_factory(engine), work=f"The import of {path.name} into {layer.name}") as db:
        report = geofile.import_features(db=db, actor=Actor.system("import"), layer=layer, source=source,
                                         settings=settings.api)
    print(f"{layer.name}: {report.created} created, {report.updated} updated, {report.unchanged} unchanged "
          f"of {report.total}")
    engine.dispose()
    return 0


def add_commands(sub: Any) -> None:
    imp = sub.add_parser("import", help="import data").add_subparsers(dest="import_command", required=True)
    simbench = imp.add_parser("simbench", help="import SimBench CSV data (default: the simbench package's set)")
    simbench.add_argument("--subnet", help="subnet prefix, e.g. MV1.101 (with its LV grids)")
    simbench.add_argument("dir", nargs="?", help="directory with the SimBench CSV files")
    simbench.set_defaults(func=cmd_import_simbench)
    geo = imp.add_parser("geo", help="import a layer from GeoJSON or GeoPackage (all rows or none)")
    geo.add_argument("layer")
    geo.add_argument("file")
    geo.add_argument("--crs", help="EPSG code of the file's coordinates if the file does not say")
    geo.set_defaults(func=cmd_import_geo)
