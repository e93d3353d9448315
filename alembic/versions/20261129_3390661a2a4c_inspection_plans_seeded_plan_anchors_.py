"""inspection plans seeded, plan anchors, case visits as tasks

Issue 9: the daily plan job needs plans to run. This seeds the default patrol cycles
(`inspections/data/plans.json`, DOMAIN.md §5 defaults that each utility changes) with the checklists
they and a case's site visits are done against (`inspections/data/plan_checklists.json`, version 1).
A plan gets `anchor_on`: the day its cycle counts from for an asset never inspected under it (the
plan's creation, here the day of the migration).

Case visits become tasks (inspections.case_visits): every site visit made before this gets its task,
as `inspections/data/case_visits.json` says (type, checklist, title, priority; answer keys). A pending
visit's task is `assigned` to the inspector sent (or `planned` if nobody was), due from the
assignment to the case's deadline, so the inspector finds it on the device and its submission
records the visit. A recorded visit's task is `closed`, carrying what was recorded (findings and
hazard found / rectification passed as its answers, the visitor as submitter): a task record of the
work for the history and the quality sample, without a supervisor's review it never had. One audit
record counts what was migrated.

No new table, so no new grant: the app role already reads, adds and updates plans, checklists and
tasks (migration 7b89717d5036), and never deletes them.

Downgrade drops only the column: seeded plans and checklists, and the visits' tasks, are rows of
tables the previous revision owns, and work may point at them; upgrading again finds them (ON
CONFLICT DO NOTHING; a visit with a task gets no second one).

Revision ID: 3390661a2a4c
Revises: ae17bd3bc852
Create Date: 2026-11-29 19:34:45.038136
"""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from alembic import op

revision = '3390661a2a4c'
down_revision = 'ae17bd3bc852'
branch_labels = None
depends_on = None

DATA = Path(__file__).resolve().parents[2] / "inspections" / "data"
SEEDED_BY = "migration 3390661a2a4c"


def _seed_checklists() -> None:
    connection = op.get_bind()
    for checklist in json.loads((DATA / "plan_checklists.json").read_text(encoding="utf-8"))["checklists"]:
        connection.execute(sa.text(
            "INSERT INTO checklist_templates (code, name, task_type) VALUES (:code, :name, :task_type) "
            "ON CONFLICT (code) DO NOTHING"), checklist)
        connection.execute(sa.text(
            "INSERT INTO checklist_versions (template_id, version, items, created_by) "
            "SELECT id, 1, CAST(:items AS jsonb), :by FROM checklist_templates WHERE code = :code "
            "ON CONFLICT ON CONSTRAINT uq_checklist_versions_template_version DO NOTHING"),
            {"code": checklist["code"], "items": json.dumps(checklist["items"], ensure_ascii=False), "by": SEEDED_BY})


def _seed_plans() -> None:
    connection = op.get_bind()
    for plan in json.loads((DATA / "plans.json").read_text(encoding="utf-8"))["plans"]:
        connection.execute(sa.text(
            "INSERT INTO inspection_plans (code, name, asset_class, min_kv, max_kv, cycle_days, task_type, "
            "checklist_template_id, required_qualifications, window_days, priority, source, active, version) "
            "SELECT :code, :name, :asset_class, :min_kv, :max_kv, :cycle_days, :task_type, "
            "(SELECT id FROM checklist_templates WHERE code = :checklist_code), CAST(:qualifications AS jsonb), "
            ":window_days, :priority, :source, true, 1 ON CONFLICT (code) DO NOTHING"),
            {**plan, "qualifications": json.dumps(plan["required_qualifications"])})


VISIT_TASKS = sa.text("""
INSERT INTO field_tasks (uuid, task_type, state, version, field_versions, title, notes, priority, location,
                         voltage_kv, due_from, due_until, required_qualifications, checklist_version_id, answers,
                         assignee_id, assigned_by_id, assigned_at, submitted_at, submitted_by_id, closed_at,
                         site_visit_id, case_id, origin)
SELECT gen_random_uuid(), :task_type,
       CASE WHEN v.visited_at IS NOT NULL THEN 'closed' WHEN v.assigned_to_id IS NOT NULL THEN 'assigned'
            ELSE 'planned' END,
       1, '{}'::jsonb, left(CAST(:title AS text) || ' ' || c.number || ': ' || c.site_address, 300), left(c.description, 2000),
       :priority, c.location, c.voltage_kv, w.due_from, greatest(w.due_from, w.due_until), '[]'::jsonb,
       (SELECT cv.id FROM checklist_versions cv JOIN checklist_templates ct ON ct.id = cv.template_id
         WHERE ct.code = :checklist ORDER BY cv.version DESC LIMIT 1),
       CASE WHEN v.visited_at IS NULL THEN '{}'::jsonb ELSE jsonb_build_object(
           CAST(:findings_key AS text), jsonb_build_object('value', v.findings, 'by', v.visited_by_name, 'at', v.visited_at,
                                             'device_time', NULL),
           CAST(:outcome_key AS text), jsonb_build_object('value', CASE WHEN v.kind = 'survey' THEN v.hazard_found ELSE v.passed END,
                                            'by', v.visited_by_name, 'at', v.visited_at, 'device_time', NULL)) END,
       v.assigned_to_id, v.assigned_by_id, v.assigned_at, v.visited_at, v.visited_by_id, v.visited_at, v.id, c.id,
       jsonb_build_object('kind', 'case_visit', 'case', c.number, 'visit_id', v.id, 'why', CAST(:why AS text))
  FROM site_visits v JOIN cases c ON c.id = v.case_id
 CROSS JOIN LATERAL (SELECT coalesce(v.assigned_at, v.visited_at, c.created_at) AS due_from,
                            coalesce(v.visited_at, c.deadline_at, v.assigned_at, c.created_at) AS due_until) w
 WHERE v.kind = :kind AND NOT EXISTS (SELECT 1 FROM field_tasks t WHERE t.site_visit_id = v.id)
""")
MIGRATED_AUDIT = sa.text(
    "INSERT INTO audit_log (actor_name, actor_role, action, entity_type, entity_id, after) "
    "VALUES (:actor, 'admin', 'tasks.migrate_case_visits', 'site_visits', 'all', CAST(:after AS jsonb))")


def _case_visits_as_tasks() -> None:
    connection = op.get_bind()
    connection.execute(sa.text("SET LOCAL TIME ZONE 'UTC'"))  # answers' `at` as the service writes them
    rules = json.loads((DATA / "case_visits.json").read_text(encoding="utf-8"))["visits"]
    created = {kind: connection.execute(VISIT_TASKS, {
        "kind": kind, "task_type": rule["task_type"], "title": rule["title"], "priority": rule["priority"],
        "checklist": rule["checklist_code"], "findings_key": rule["findings_answer"],
        "outcome_key": rule["outcome_answer"], "why": f"{SEEDED_BY}: a site visit made before field tasks"}).rowcount
        for kind, rule in rules.items()}
    if any(created.values()):
        connection.execute(MIGRATED_AUDIT, {"actor": f"system:{SEEDED_BY}", "after": json.dumps(created)})


def upgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.add_column('inspection_plans', sa.Column('anchor_on', sa.Date(), server_default=sa.text('CURRENT_DATE'),
                                                nullable=False))
    # ### end Alembic commands ###
    _seed_checklists()
    _seed_plans()
    _case_visits_as_tasks()


def downgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.drop_column('inspection_plans', 'anchor_on')
    # ### end Alembic commands ###
