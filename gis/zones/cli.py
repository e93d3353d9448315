"""`./gw zones rebuild`, and the derived zones a database migrated before zones existed lacks."""

from __future__ import annotations

import argparse
import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import service as audit_service
from core.context import Actor
from core.database import create_db_engine, create_session_factory, unit_of_work
from core.settings import Settings
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
    engine = create_db_engine(settings.database)
    started = time.perf_counter()
    with unit_of_work(create_session_factory(engine)) as db:
        parts = zone_service.rebuild_all_zones(db=db)
        audit_service.record(db=db, actor=Actor.system("cli"), action="zones.rebuild", entity_type="line_zones",
                             entity_id="all", before=None, after={"zone_parts": parts})
    print(f"zones: {parts} derived zone parts rebuilt in {time.perf_counter() - started:.1f} s")
    engine.dispose()
    return 0


def add_commands(sub: Any) -> None:
    zones = sub.add_parser("zones", help="protection zones").add_subparsers(dest="zones_command", required=True)
    zones.add_parser("rebuild", help="recompute every derived zone").set_defaults(func=cmd_zones_rebuild)
