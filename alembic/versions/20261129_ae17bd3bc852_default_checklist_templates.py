"""default checklist templates (issue 9)

Field tasks are done against a checklist version; the utility's standard checklists (line patrol,
transformer inspection, meter reading, site survey, re-inspection) ship as version 1 of each
template, seeded from inspections/data/checklists.json so a fresh installation can plan work at
once. Supervisors publish later versions through the API. No schema change: the tables came with
7b89717d5036, whose grants already let the app role insert versions and never delete them.

Revision ID: ae17bd3bc852
Revises: 7b89717d5036
Create Date: 2026-11-29 19:37:07.054371
"""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from alembic import op

revision = 'ae17bd3bc852'
down_revision = '7b89717d5036'
branch_labels = None
depends_on = None

CHECKLISTS_FILE = Path(__file__).resolve().parents[2] / "inspections" / "data" / "checklists.json"
SEEDED_BY = f"migration {revision}"


def upgrade() -> None:
    bind = op.get_bind()
    for template in json.loads(CHECKLISTS_FILE.read_text(encoding="utf-8"))["templates"]:
        template_id = bind.execute(sa.text(
            "INSERT INTO checklist_templates (code, name, task_type) VALUES (:code, :name, :task_type) "
            "ON CONFLICT (code) DO NOTHING RETURNING id"),
            {"code": template["code"], "name": template["name"], "task_type": template["task_type"]}).scalar()
        if template_id is None:
            continue  # a template of that code exists already: the utility's own is kept
        bind.execute(sa.text(
            "INSERT INTO checklist_versions (template_id, version, items, created_by) "
            "VALUES (:template_id, 1, CAST(:items AS jsonb), :created_by)"),
            {"template_id": template_id, "items": json.dumps(template["items"], ensure_ascii=False),
             "created_by": SEEDED_BY})


def downgrade() -> None:
    # The seeded versions no task was done against, then the templates left without versions and plans.
    op.execute(sa.text(
        "DELETE FROM checklist_versions v WHERE created_by = :seeded "
        "AND NOT EXISTS (SELECT 1 FROM field_tasks t WHERE t.checklist_version_id = v.id)").bindparams(
        seeded=SEEDED_BY))
    op.execute(
        "DELETE FROM checklist_templates t WHERE NOT EXISTS (SELECT 1 FROM checklist_versions v "
        "WHERE v.template_id = t.id) AND NOT EXISTS (SELECT 1 FROM inspection_plans p "
        "WHERE p.checklist_template_id = t.id)")
