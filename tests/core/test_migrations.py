"""Alembic is the only way the schema changes: it goes down to nothing and up again, and the
models match what the migrations build."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from alembic import command
from core.cli import alembic_config
from gridwarden.domains import installed

metadata = installed().metadata()
from core.settings import Settings

OUR_TABLES = {"users", "user_qualifications", "audit_log", "outbox_events", "network_nodes", "substations",
              "transformers", "lines", "poles", "switches", "customers", "topology_state", "import_jobs", "cases", "case_events", "decision_documents", "serial_counters", "working_calendars",
              "rule_sets", "line_zones", "manual_zones", "built_up_areas", "screenings"}


def test_downgrade_to_base_and_upgrade_to_head(settings: Settings, owner_engine: Engine) -> None:
    config = alembic_config(settings.database.migration_url)
    config.attributes["configure_logger"] = False

    command.downgrade(config, "base")
    after_down = set(inspect(owner_engine).get_table_names())
    command.upgrade(config, "head")
    after_up = set(inspect(owner_engine).get_table_names())

    assert after_down & OUR_TABLES == set()
    assert OUR_TABLES <= after_up


def test_models_and_migrations_agree(owner_engine: Engine) -> None:
    with owner_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": _ours})
        differences = compare_metadata(context, metadata)

    assert differences == []


def _ours(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    return not (type_ == "table" and reflected and compare_to is None)
