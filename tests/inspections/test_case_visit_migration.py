"""Migration 3390661a2a4c on a database with cases from before field tasks: each pending site visit
gets its task, assigned to the inspector sent and due by the case's deadline; each recorded visit a
closed task carrying what was recorded; nothing twice when migrated again; and the default
inspection plans are seeded with their checklists."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from alembic import command
from core.cli import alembic_config
from core.permissions import Role
from core.settings import Settings

REVISION = "3390661a2a4c"
CASE_SQL = text(
    "INSERT INTO cases (id, number, kind, request_type, state, version, applicant_name, site_address, description, "
    "voltage_kv, activities, language, department, owner_id, assignee_id, verdict, screening_ids, stage_started_at, "
    "deadline_at, escalation_level, created_by_id, location) "
    "VALUES (:id, :number, 'connection', 'new_connection', :state, 5, '张三', '幸福路 1 号', '新装', 0.4, '[]', 'zh', "
    "'marketing', :approver, :inspector, 'conditional', '[]', now(), :deadline, 0, :approver, "
    "ST_SetSRID(ST_MakePoint(117.28, 31.86), 4326))")
VISIT_SQL = text(
    "INSERT INTO site_visits (id, case_id, kind, assigned_to_id, assigned_by_id, assigned_at, visited_by_id, "
    "visited_by_name, visited_at, findings, hazard_found, passed, measures) VALUES (:id, :case_id, :kind, :inspector, "
    ":approver, :assigned_at, :visited_by, :visited_name, :visited_at, :findings, :hazard, :passed, '[]')")
TASKS_SQL = text(
    "SELECT t.site_visit_id, t.case_id, t.task_type, t.state, t.assignee_id, t.assigned_by_id, t.due_from, "
    "t.due_until, t.submitted_by_id, t.closed_at, t.answers, ct.code AS checklist, t.title, "
    "ST_AsText(t.location) AS location FROM field_tasks t "
    "LEFT JOIN checklist_versions cv ON cv.id = t.checklist_version_id "
    "LEFT JOIN checklist_templates ct ON ct.id = cv.template_id ORDER BY t.site_visit_id")


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _visit(inspector: int, approver: int, **fields: Any) -> dict[str, Any]:
    return {"inspector": inspector, "approver": approver, "visited_by": None, "visited_name": None,
            "visited_at": None, "findings": None, "hazard": None, "passed": None, **fields}


def test_case_visits_from_before_field_tasks_become_tasks_and_the_default_plans_are_seeded(
        settings: Settings, owner_engine: Engine, role_users: dict[Role, int]) -> None:
    config = alembic_config(settings.database.migration_url)
    config.attributes["configure_logger"] = False
    previous = ScriptDirectory.from_config(config).get_revision(REVISION).down_revision
    approver, inspector = role_users[Role.approver], role_users[Role.inspector]
    try:
        command.downgrade(config, str(previous))
        with owner_engine.begin() as conn:
            conn.execute(text("TRUNCATE inspection_plans CASCADE"))
            common = {"approver": approver, "inspector": inspector}
            conn.execute(CASE_SQL, [
                {**common, "id": 901, "number": "YK-901", "state": "reinspected", "deadline": "2026-11-30T16:00:00Z"},
                {**common, "id": 902, "number": "YK-902", "state": "survey_assigned",
                 "deadline": "2026-12-04T16:00:00Z"}])
            conn.execute(VISIT_SQL, [
                _visit(inspector, approver, id=71, case_id=901, kind="survey", assigned_at="2026-11-19T08:00:00Z",
                       visited_by=inspector, visited_name="test-inspector", visited_at="2026-11-20T02:30:00Z",
                       findings="现场有违章搭建", hazard=True),
                _visit(inspector, approver, id=72, case_id=901, kind="reinspection",
                       assigned_at="2026-11-23T08:00:00Z", visited_by=inspector, visited_name="test-inspector",
                       visited_at="2026-11-24T03:00:00Z", findings="已拆除", passed=True),
                _visit(inspector, approver, id=73, case_id=902, kind="survey", assigned_at="2026-11-26T08:00:00Z")])

        command.upgrade(config, REVISION)
        command.downgrade(config, str(previous))
        command.upgrade(config, REVISION)  # again: nothing twice

        with owner_engine.connect() as conn:
            tasks = [dict(r) for r in conn.execute(TASKS_SQL).mappings()]
            plans = dict(conn.execute(text("SELECT p.code, t.code FROM inspection_plans p "
                                           "LEFT JOIN checklist_templates t ON t.id = p.checklist_template_id")).all())
            audits = conn.execute(text("SELECT actor_name, after FROM audit_log "
                                       "WHERE action = 'tasks.migrate_case_visits'")).all()
    finally:
        command.upgrade(config, "head")

    recorded = {"by": "test-inspector", "device_time": None}
    assert [{k: t[k] for k in ("site_visit_id", "case_id", "task_type", "state", "assignee_id", "assigned_by_id",
                                "submitted_by_id", "checklist")} for t in tasks] == [
        {"site_visit_id": 71, "case_id": 901, "task_type": "site_survey", "state": "closed", "assignee_id": inspector,
         "assigned_by_id": approver, "submitted_by_id": inspector, "checklist": "site_survey"},
        {"site_visit_id": 72, "case_id": 901, "task_type": "reinspection", "state": "closed",
         "assignee_id": inspector, "assigned_by_id": approver, "submitted_by_id": inspector, "checklist": "reinspection"},
        {"site_visit_id": 73, "case_id": 902, "task_type": "site_survey", "state": "assigned",
         "assignee_id": inspector, "assigned_by_id": approver, "submitted_by_id": None, "checklist": "site_survey"}]
    survey, reinspection, pending = tasks
    assert survey["answers"] == {
        "findings": {"value": "现场有违章搭建", "at": "2026-11-20T02:30:00+00:00", **recorded},
        "hazard_found": {"value": True, "at": "2026-11-20T02:30:00+00:00", **recorded}}
    assert reinspection["answers"]["rectified"] == {"value": True, "at": "2026-11-24T03:00:00+00:00", **recorded}
    assert survey["closed_at"] == _at("2026-11-20T02:30:00+00:00")
    assert (pending["due_from"], pending["due_until"]) == (_at("2026-11-26T08:00:00+00:00"),
                                                           _at("2026-12-04T16:00:00+00:00"))
    assert pending["answers"] == {} and pending["closed_at"] is None
    assert pending["title"] == "Site survey YK-902: 幸福路 1 号" and pending["location"] == "POINT(117.28 31.86)"
    assert plans["overhead-line-mv"] == "line_patrol" and plans["substation"] == "substation_inspection"
    assert len(plans) == 9 and None not in plans.values()
    assert [(a.actor_name, a.after) for a in audits] == [
        ("system:migration 3390661a2a4c", {"survey": 2, "reinspection": 1})]
