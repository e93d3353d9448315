"""`./gw readings books`: build or refresh every reading book from the customers (what
`POST /api/v1/reading-books/rebuild` does), e.g. after an import."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from core.context import Actor
from core.database import create_db_engine, create_session_factory, unit_of_work
from core.settings import Settings
from inspections.readings.books import rebuild_books


def cmd_books(settings: Settings, _args: argparse.Namespace) -> int:
    engine = create_db_engine(settings.database)
    with unit_of_work(create_session_factory(engine)) as db:
        outcome = rebuild_books(db=db, actor=Actor.system("cli"), now=datetime.now(UTC))
    engine.dispose()
    print("reading books: " + ", ".join(f"{name.replace('_', ' ')} {count}" for name, count in asdict(outcome).items()))
    return 0


def add_commands(sub: Any) -> None:
    readings = sub.add_parser("readings", help="meter reading").add_subparsers(dest="readings_command", required=True)
    readings.add_parser("books", help="build or refresh every reading book from the customers").set_defaults(
        func=cmd_books)
