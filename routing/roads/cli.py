"""`./gw roads import FILE`: replace the road network with an OpenStreetMap extract (.osm.pbf) or a
GeoPackage (.gpkg), as `POST /api/v1/roads/imports` does."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from core.context import Actor
from core.database import create_job_engine, create_session_factory, unit_of_work
from core.settings import JobSettings, Settings
from routing.roads.service import import_roads, read_limited
from routing.settings import routing_settings


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    path = Path(args.file)
    with path.open("rb") as source:
        data = read_limited(source, max_bytes=routing_settings(settings).max_road_file_bytes)
    # Whole-network work (every zone rebuilt, a road network replaced): the jobs' statement timeout.
    engine = create_job_engine(settings.database, settings.section(JobSettings))
    with unit_of_work(create_session_factory(engine)) as db:
        report = import_roads(db=db, actor=Actor.system("cli"), data=data, filename=path.name)
    engine.dispose()
    if report.unchanged:
        print(f"roads: {path.name} is the network in use (version {report.import_id}); nothing changed")
    else:
        print(f"roads: version {report.import_id} from {path.name}: {report.edges} edges, "
              f"{report.vertices} vertices")
    for reason, count in sorted(report.skipped.items()):
        print(f"  skipped {count}: {reason}")
    return 0


def add_commands(sub: Any) -> None:
    roads = sub.add_parser("roads", help="the road network").add_subparsers(dest="roads_command", required=True)
    imp = roads.add_parser("import", help="replace the road network with an .osm.pbf or .gpkg file")
    imp.add_argument("file")
    imp.set_defaults(func=cmd_import)
