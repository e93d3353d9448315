"""Alembic is the only way the schema changes: it goes down to nothing and up again, and the
models match what the migrations build."""

from __future__ import annotations

import json
from datetime import datetime

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from alembic import command
from core.cli import alembic_config
from core.permissions import Role
from gridwarden.domains import installed

metadata = installed().metadata()
from core.settings import Settings

OUR_TABLES = {"users", "user_qualifications", "audit_log", "outbox_events", "network_nodes", "substations",
              "transformers", "lines", "poles", "switches", "customers", "topology_state", "import_jobs", "cases", "case_events", "site_visits",
              "case_decisions", "decision_documents", "serial_counters", "working_calendars",
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


# --- site visits and decisions (migration 49a01cbf55dd): JSON on the case <-> typed rows ---------------

VISITS_REVISION = "49a01cbf55dd"
SURVEY = {"findings": "现场有违章搭建", "hazard_found": True, "by": "test-inspector",
          "at": "2026-11-20T02:30:00.123456+00:00",
          "reinspection": {"findings": "已拆除", "passed": True, "by": "test-inspector",
                           "at": "2026-11-24T03:00:00+00:00"}}
DECISION = {"action": "approve_with_clauses", "by": "test-approver", "at": "2026-11-25T06:15:30.500000+00:00",
            "measures": ["不得在保护区内搭建"], "note": "整改合格", "document": {"id": 7001, "serial_number": "SG-2026-0001"}}
CASE_SQL = text(
    "INSERT INTO cases (id, number, kind, request_type, state, version, applicant_name, site_address, description, "
    "voltage_kv, activities, language, department, owner_id, assignee_id, surveyed_by_id, reinspected_by_id, "
    "verdict, screening_ids, survey, decision, stage_started_at, escalation_level, created_by_id, location) "
    "VALUES (:id, :number, 'connection', 'new_connection', :state, 5, '张三', '', '', 0.4, '[]', 'zh', 'marketing', "
    ":approver, :inspector, :surveyed_by, :reinspected_by, 'conditional', '[]', CAST(:survey AS jsonb), "
    "CAST(:decision AS jsonb), now(), 0, :approver, ST_SetSRID(ST_MakePoint(117.28, 31.86), 4326))")
EVENT_SQL = text("INSERT INTO case_events (case_id, at, actor_id, actor_name, action, to_state, details) "
                 "VALUES (:case_id, :at, :actor_id, 'test-approver', :action, :to_state, '{}')")


def test_site_visits_and_decisions_move_from_json_to_rows_and_back(
        settings: Settings, owner_engine: Engine, role_users: dict[Role, int]) -> None:
    """A decided case with a survey and a re-inspection, and a case waiting for its surveyor,
    migrated up have their visit and decision rows; migrated down, the same JSON as before."""
    config = alembic_config(settings.database.migration_url)
    config.attributes["configure_logger"] = False
    previous = ScriptDirectory.from_config(config).get_revision(VISITS_REVISION).down_revision
    approver, inspector = role_users[Role.approver], role_users[Role.inspector]
    try:
        command.downgrade(config, str(previous))
        with owner_engine.begin() as conn:
            common = {"approver": approver, "inspector": inspector}
            conn.execute(CASE_SQL, {**common, "id": 901, "number": "SG-1", "state": "approved_with_clauses",
                                    "surveyed_by": inspector, "reinspected_by": inspector,
                                    "survey": json.dumps(SURVEY), "decision": json.dumps(DECISION)})
            conn.execute(CASE_SQL, {**common, "id": 902, "number": "YK-2", "state": "survey_assigned",
                                    "surveyed_by": None, "reinspected_by": None, "survey": None, "decision": None})
            conn.execute(text("INSERT INTO decision_documents (id, case_id, kind, serial_number, language, object_key, "
                              "sha256, size_bytes, signed_by, signed_on) VALUES (7001, 901, 'approval_with_clauses', "
                              "'SG-2026-0001', 'zh', 'k', :sha, 1, '王审批', '2026-11-25')"), {"sha": "0" * 64})
            conn.execute(EVENT_SQL, [
                {"case_id": 901, "at": "2026-11-19T08:00:00+00:00", "actor_id": approver, "action": "assign_survey",
                 "to_state": "survey_assigned"},
                {"case_id": 901, "at": "2026-11-23T08:00:00+00:00", "actor_id": approver,
                 "action": "assign_reinspection", "to_state": "reinspection_assigned"},
                {"case_id": 902, "at": "2026-11-26T08:00:00+00:00", "actor_id": approver, "action": "assign_survey",
                 "to_state": "survey_assigned"}])

        command.upgrade(config, VISITS_REVISION)
        with owner_engine.connect() as conn:
            visits = [dict(r) for r in conn.execute(text(
                "SELECT case_id, kind, assigned_to_id, assigned_by_id, assigned_at, visited_by_id, visited_by_name, "
                "visited_at, findings, hazard_found, passed FROM site_visits ORDER BY id")).mappings()]
            decisions = [dict(r) for r in conn.execute(text(
                "SELECT case_id, action, decided_by_id, decided_by_name, decided_at, measures, note, reported_to, "
                "document_id FROM case_decisions")).mappings()]
            columns = {c["name"] for c in inspect(conn).get_columns("cases")}

        assert {"survey", "decision"} & columns == set()
        assert visits == [
            {"case_id": 901, "kind": "survey", "assigned_to_id": inspector, "assigned_by_id": approver,
             "assigned_at": _at("2026-11-19T08:00:00+00:00"), "visited_by_id": inspector,
             "visited_by_name": "test-inspector", "visited_at": _at(SURVEY["at"]), "findings": "现场有违章搭建",
             "hazard_found": True, "passed": None},
            {"case_id": 901, "kind": "reinspection", "assigned_to_id": inspector, "assigned_by_id": approver,
             "assigned_at": _at("2026-11-23T08:00:00+00:00"), "visited_by_id": inspector,
             "visited_by_name": "test-inspector", "visited_at": _at("2026-11-24T03:00:00+00:00"),
             "findings": "已拆除", "hazard_found": None, "passed": True},
            {"case_id": 902, "kind": "survey", "assigned_to_id": inspector, "assigned_by_id": approver,
             "assigned_at": _at("2026-11-26T08:00:00+00:00"), "visited_by_id": None, "visited_by_name": None,
             "visited_at": None, "findings": None, "hazard_found": None, "passed": None}]
        assert decisions == [
            {"case_id": 901, "action": "approve_with_clauses", "decided_by_id": approver,
             "decided_by_name": "test-approver", "decided_at": _at(DECISION["at"]), "measures": ["不得在保护区内搭建"],
             "note": "整改合格", "reported_to": None, "document_id": 7001}]

        command.downgrade(config, str(previous))
        with owner_engine.connect() as conn:
            restored = dict(conn.execute(text("SELECT id, json_build_array(survey, decision) FROM cases")).all())
            tables = set(inspect(conn).get_table_names())

        assert restored == {901: [SURVEY, DECISION], 902: [None, None]}
        assert {"site_visits", "case_decisions"} & tables == set()
    finally:
        command.upgrade(config, "head")


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)
