"""Command line behind `./gw`: migrations, storage, demo data, users and imports.

Each command builds its settings from the environment (this is a composition root) and runs its
work in one unit of work, attributed to a named system actor in the audit log.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from alembic.config import Config
from sqlalchemy import func, select

from alembic import command
from core.audit import service as audit_service
from core.context import Actor, bind_request_id
from core.database import create_db_engine, create_session_factory, unit_of_work
from core.errors import GridWardenError, InvalidInput
from core.permissions import Role
from core.security import verify_password
from core.settings import Settings
from core.users import service as user_service
from core.users.schemas import QualificationIn, UserCreate
from gis.customers.models import Customer
from gis.imports import geofile
from gis.imports.simbench import DEMO_SUBNET, default_source_dir, import_simbench
from gis.network.models import Line
from gis.rule_sets import service as rule_set_service
from gis.zones import service as zone_service
from gis.zones.models import LineZone
from media.storage import ObjectStorage

REPO_ROOT = Path(__file__).resolve().parent.parent

# Dev-only accounts printed by `./gw run`; never created outside the dev environment.
DEMO_USERS: tuple[tuple[str, Role, str], ...] = (
    ("admin", Role.admin, "Ada Admin"),
    ("dispatcher", Role.dispatcher, "Dan Dispatcher"),
    ("inspector", Role.inspector, "Ina Inspector"),
    ("approver", Role.approver, "Abe Approver"),
    ("auditor", Role.auditor, "Aud Auditor"),
)


def alembic_config(url: str) -> Config:
    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.attributes["url"] = url
    return config


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    command.upgrade(alembic_config(settings.database.migration_url), "head")
    print("database: migrations applied")
    # A database that had lines before derived zones existed gets them once here; from then on
    # every line change keeps its zones current in the same transaction.
    engine = create_db_engine(settings.database)
    with unit_of_work(create_session_factory(engine)) as db:
        if db.scalar(select(Line.id).limit(1)) and not db.scalar(select(LineZone.id).limit(1)):
            print(f"zones: {zone_service.rebuild_all_zones(db=db)} derived zone parts built")
    engine.dispose()
    return 0


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


def cmd_rules_load(settings: Settings, args: argparse.Namespace) -> int:
    engine = create_db_engine(settings.database)
    with unit_of_work(create_session_factory(engine)) as db:
        content = rule_set_service.read_rule_set_file(Path(args.file))
        row, created = zone_service.load_rule_set(db=db, actor=Actor.system("cli"), content=content)
    print(f"rule set {row.code} {row.version}: {'loaded' if created else 'already loaded, unchanged'}")
    engine.dispose()
    return 0


def cmd_storage_init(settings: Settings, _args: argparse.Namespace) -> int:
    created = ObjectStorage(settings.s3).ensure_buckets()
    print(f"s3: buckets ready ({', '.join(created) + ' created' if created else 'already there'})")
    return 0


# What demo users' passwords were before they were generated per installation: published, so an
# installation that still has one is moved to its generated password.
_PUBLISHED_DEMO_PASSWORD = "{username}-dev-pass"


# Shorter than ./gw's generated one (16) means it was not generated: refuse rather than seed it.
DEMO_PASSWORD_MIN_LENGTH = 12


def _demo_password() -> str | None:
    """The demo users' password, generated per installation by `./gw` (.gw/secrets.env, DEMO_PASSWORD)
    and handed to this command alone: it is no setting of the application."""
    password = os.environ.get("GW_DEMO_PASSWORD", "")
    return password if len(password) >= DEMO_PASSWORD_MIN_LENGTH else None


def cmd_seed_demo(settings: Settings, _args: argparse.Namespace) -> int:
    if settings.environment == "production":
        print("seed-demo refuses to run with GW_ENVIRONMENT=production", file=sys.stderr)
        return 2
    password = _demo_password()
    if password is None:
        print(f"seed-demo needs GW_DEMO_PASSWORD ({DEMO_PASSWORD_MIN_LENGTH} characters or more); "
              "./gw run passes the generated one",
              file=sys.stderr)
        return 2
    engine = create_db_engine(settings.database)
    factory = create_session_factory(engine)
    actor = Actor.system("seed-demo")
    with unit_of_work(factory) as db:
        for username, role, full_name in DEMO_USERS:
            existing = user_service.get_by_username(db=db, username=username)
            if existing is not None and verify_password(_PUBLISHED_DEMO_PASSWORD.format(username=username),
                                                        existing.password_hash):
                user_service.replace_password(db=db, actor=actor, user=existing, password=password)
            if existing is None:
                quals = []
                if role is Role.inspector:
                    quals = [QualificationIn(certificate_type="substation_entry", certificate_number="DEMO-001",
                                             max_voltage_kv=Decimal(20), valid_until=date.today() + timedelta(days=365))]
                user_service.create(db=db, actor=actor, user_in=UserCreate(
                    username=username, full_name=full_name, role=role, password=password,
                    qualifications=quals))
    with unit_of_work(factory) as db:
        has_network = (db.scalar(select(func.count()).select_from(Customer)) or 0) > 0
    if not has_network:
        started = time.perf_counter()
        report = import_simbench(engine=engine, source_dir=default_source_dir(), subnet=DEMO_SUBNET, actor=actor)
        print(f"demo network: SimBench {DEMO_SUBNET} imported in {time.perf_counter() - started:.1f} s "
              f"({report.customers} customers, {report.transformers} transformers, {report.lines} lines)")
    else:
        print("demo network: already loaded")
    print(f"demo users (password of this installation, DEMO_PASSWORD in .gw/secrets.env: {password}):")
    for username, role, _ in DEMO_USERS:
        print(f"  {username:<11} role {role.value}")
    engine.dispose()
    return 0


def cmd_user_create(settings: Settings, args: argparse.Namespace) -> int:
    if sys.stdin.isatty():
        password = getpass.getpass(f"Password for {args.name}: ")
    else:
        password = sys.stdin.readline().rstrip("\n")
    engine = create_db_engine(settings.database)
    with unit_of_work(create_session_factory(engine)) as db:
        user = user_service.create(db=db, actor=Actor.system("cli"), user_in=UserCreate(
            username=args.name, full_name=args.full_name or "", role=Role(args.role), password=password))
        print(f"user {user.username} created with role {user.role}")
    engine.dispose()
    return 0


def cmd_import_simbench(settings: Settings, args: argparse.Namespace) -> int:
    engine = create_db_engine(settings.database)
    source = Path(args.dir) if args.dir else default_source_dir()
    report = import_simbench(engine=engine, source_dir=source, subnet=args.subnet, actor=Actor.system("import"),
                             progress=lambda f, m: print(f"  {f:4.0%} {m}", flush=True))
    for key, value in report.counts().items():
        print(f"{key:>31}: {value}")
    print(f"{'seconds':>31}: {report.seconds}")
    engine.dispose()
    return 0


def cmd_import_geo(settings: Settings, args: argparse.Namespace) -> int:
    path = Path(args.file)
    layer = geofile.layer_by_name(args.layer)
    source = geofile.read_source(path.read_bytes(), path.name, crs=args.crs)
    engine = create_db_engine(settings.database)
    with unit_of_work(create_session_factory(engine)) as db:
        report = geofile.import_features(db=db, actor=Actor.system("import"), layer=layer, source=source,
                                         settings=settings.api)
    print(f"{layer.name}: {report.created} created, {report.updated} updated, {report.unchanged} unchanged "
          f"of {report.total}")
    engine.dispose()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gw", description="GridWarden administration")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("storage-init", help="create S3 buckets").set_defaults(func=cmd_storage_init)
    sub.add_parser("seed-demo", help="load demo users and the demo network").set_defaults(func=cmd_seed_demo)

    user = sub.add_parser("user", help="manage users").add_subparsers(dest="user_command", required=True)
    create = user.add_parser("create", help="create a user; the password is read from stdin")
    create.add_argument("name")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--full-name")
    create.set_defaults(func=cmd_user_create)

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

    zones = sub.add_parser("zones", help="protection zones").add_subparsers(dest="zones_command", required=True)
    zones.add_parser("rebuild", help="recompute every derived zone").set_defaults(func=cmd_zones_rebuild)
    rules = sub.add_parser("rules", help="rule sets").add_subparsers(dest="rules_command", required=True)
    load = rules.add_parser("load", help="load a rule-set JSON file (immutable per code and version)")
    load.add_argument("file")
    load.set_defaults(func=cmd_rules_load)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    bind_request_id()
    try:
        return int(args.func(Settings(), args))
    except InvalidInput as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        for err in exc.errors[:50]:
            print(f"  {err}", file=sys.stderr)
        return 1
    except GridWardenError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
