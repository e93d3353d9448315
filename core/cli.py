"""The command line behind `./gw` (entry point `gridwarden.cli`): core's commands (migrations,
buckets, demo data, users) and the commands each installed domain adds (`Domain.commands`).

Each command gets the settings built from the environment at the entry point and runs its work in
one unit of work, attributed to a named system actor in the audit log. A domain's command is a
function `(settings, args) -> exit status`, set as `func` on its subparser.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from alembic.config import Config
from sqlalchemy.exc import DBAPIError

from alembic import command
from core.context import Actor, bind_request_id
from core.database import create_db_engine, create_job_engine, create_session_factory, unavailable_from, unit_of_work
from core.errors import GridWardenError, InvalidInput
from core.permissions import Role
from core.registry import Domains
from core.security import verify_password
from core.settings import JobSettings, Settings
from core.storage import ObjectStorage
from core.users import service as user_service
from core.users.schemas import QualificationIn, UserCreate

REPO_ROOT = Path(__file__).resolve().parent.parent

# Dev-only accounts printed by `./gw run`; never created outside the dev environment.
DEMO_USERS: tuple[tuple[str, Role, str], ...] = (
    ("admin", Role.admin, "Ada Admin"),
    ("dispatcher", Role.dispatcher, "Dan Dispatcher"),
    ("supervisor", Role.supervisor, "Sue Supervisor"),
    ("inspector", Role.inspector, "Ina Inspector"),
    ("approver", Role.approver, "Abe Approver"),
    ("auditor", Role.auditor, "Aud Auditor"),
)


def alembic_config(url: str) -> Config:
    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.attributes["url"] = url
    return config


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    command.upgrade(alembic_config(settings.database.migration_url), "head")
    print("database: migrations applied")
    # Work a domain does once on a database migrated before it existed (zones for existing lines):
    # whole-network work, so under the jobs' statement timeout, not a request's.
    engine = create_job_engine(settings.database, settings.section(JobSettings))
    for hook in args.domains.after_migrate_hooks():
        with unit_of_work(create_session_factory(engine)) as db:
            if message := hook(db=db):
                print(message)
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


def cmd_seed_demo(settings: Settings, args: argparse.Namespace) -> int:
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
    for load in args.domains.demo_loaders():
        print(load(settings=settings, engine=engine, actor=actor))
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


def build_parser(domains: Domains) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gw", description="GridWarden administration")
    parser.set_defaults(domains=domains)
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

    for add_commands in domains.command_installers():
        add_commands(sub)
    return parser


def main(domains: Domains, argv: list[str] | None = None) -> int:
    args = build_parser(domains).parse_args(argv)
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
    except DBAPIError as exc:
        # A command that ran a statement outside a unit of work: the same honest words as a 503
        # (a timeout says it was one, with the limit), never a traceback or a guess.
        mapped = unavailable_from(exc, work=f"The command `{args.command}`")
        if mapped is None:
            raise
        print(f"error: {mapped.detail}", file=sys.stderr)
        return 1

