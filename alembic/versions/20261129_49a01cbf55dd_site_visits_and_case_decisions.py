"""site visits and case decisions: typed rows instead of the cases' survey and decision JSON

A case's survey (with its nested re-inspection) and its decision were JSON documents on the case.
Each site visit is now a `site_visits` row (from the moment someone is sent, so that field tasks can
hang off it) and each decision a `case_decisions` row. Upgrade moves every case's JSON into rows:
its survey, its re-inspection and its decision (the JSON kept only the latest of each; earlier
rounds stay in the case's history and the audit log), plus the pending visit of a case waiting for
one; who was sent, by whom and when come from the last assignment in the case's history. Then the
JSON columns go. Downgrade rebuilds the JSON from the rows, as the API shows it, and drops them.

Revision ID: 49a01cbf55dd
Revises: 46e8c6199e60
Create Date: 2026-11-29 17:00:00
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision = '49a01cbf55dd'
down_revision = '46e8c6199e60'
branch_labels = None
depends_on = None

# Visits are opened, re-assigned and completed; decisions are only ever added.
GRANTS = """
DO $$
DECLARE app_role text := 'gridwarden_app';
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = app_role) AND app_role <> current_user THEN
        EXECUTE format('GRANT SELECT, INSERT, UPDATE ON site_visits TO %I', app_role);
        EXECUTE format('GRANT SELECT, INSERT ON case_decisions TO %I', app_role);
        EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE site_visits_id_seq, case_decisions_id_seq TO %I', app_role);
    END IF;
END $$;
"""
# The state a case waits in for each kind of visit, and the action that sends someone on it.
PENDING_STATE = {"survey": "survey_assigned", "reinspection": "reinspection_assigned"}
ASSIGN_ACTION = {"survey": "assign_survey", "reinspection": "assign_reinspection"}

INSERT_VISIT = sa.text(
    "INSERT INTO site_visits (case_id, kind, assigned_to_id, assigned_by_id, assigned_at, visited_by_id, "
    "visited_by_name, visited_at, findings, hazard_found, passed) VALUES (:case_id, :kind, :assigned_to_id, "
    ":assigned_by_id, :assigned_at, :visited_by_id, :visited_by_name, :visited_at, :findings, :hazard_found, "
    ":passed)")
INSERT_DECISION = sa.text(
    "INSERT INTO case_decisions (case_id, action, decided_by_id, decided_by_name, decided_at, measures, note, "
    "reported_to, document_id) VALUES (:case_id, :action, :decided_by_id, :decided_by_name, :decided_at, "
    "CAST(:measures AS jsonb), :note, :reported_to, :document_id)")


def upgrade() -> None:
    op.create_table('site_visits',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('case_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('assigned_to_id', sa.BigInteger(), nullable=True),
    sa.Column('assigned_by_id', sa.BigInteger(), nullable=True),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('visited_by_id', sa.BigInteger(), nullable=True),
    sa.Column('visited_by_name', sa.String(length=200), nullable=True),
    sa.Column('visited_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('findings', sa.Text(), nullable=True),
    sa.Column('hazard_found', sa.Boolean(), nullable=True),
    sa.Column('passed', sa.Boolean(), nullable=True),
    sa.Column('measures', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"),
              nullable=False),
    sa.CheckConstraint("kind IN ('survey', 'reinspection')", name=op.f('ck_site_visits_kind')),
    sa.CheckConstraint("kind = 'survey' OR hazard_found IS NULL", name=op.f('ck_site_visits_hazard_found_on_surveys')),
    sa.CheckConstraint("kind = 'reinspection' OR passed IS NULL",
                       name=op.f('ck_site_visits_passed_on_reinspections')),
    sa.CheckConstraint("visited_at IS NULL OR (visited_by_name IS NOT NULL AND findings IS NOT NULL)",
                       name=op.f('ck_site_visits_recorded_visit_complete')),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['users.id'], name=op.f('fk_site_visits_assigned_by_id_users')),
    sa.ForeignKeyConstraint(['assigned_to_id'], ['users.id'], name=op.f('fk_site_visits_assigned_to_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_site_visits_case_id_cases')),
    sa.ForeignKeyConstraint(['visited_by_id'], ['users.id'], name=op.f('fk_site_visits_visited_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_site_visits'))
    )
    op.create_index(op.f('ix_site_visits_case_id'), 'site_visits', ['case_id'], unique=False)
    op.create_index('uq_site_visits_one_pending', 'site_visits', ['case_id'], unique=True,
                    postgresql_where=sa.text('visited_at IS NULL'))
    op.create_table('case_decisions',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('case_id', sa.BigInteger(), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('decided_by_id', sa.BigInteger(), nullable=True),
    sa.Column('decided_by_name', sa.String(length=200), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('measures', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"),
              nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('reported_to', sa.Text(), nullable=True),
    sa.Column('document_id', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_decisions_case_id_cases')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_case_decisions_decided_by_id_users')),
    sa.ForeignKeyConstraint(['document_id'], ['decision_documents.id'],
                            name=op.f('fk_case_decisions_document_id_decision_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_decisions')),
    sa.UniqueConstraint('document_id', name=op.f('uq_case_decisions_document_id'))
    )
    op.create_index(op.f('ix_case_decisions_case_id'), 'case_decisions', ['case_id'], unique=False)
    op.execute(GRANTS)
    _json_to_rows(op.get_bind())
    op.drop_column('cases', 'decision')
    op.drop_column('cases', 'survey')


def downgrade() -> None:
    op.add_column('cases', sa.Column('survey', postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.add_column('cases', sa.Column('decision', postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    _rows_to_json(op.get_bind())
    op.drop_index(op.f('ix_case_decisions_case_id'), table_name='case_decisions')
    op.drop_table('case_decisions')
    op.drop_index('uq_site_visits_one_pending', table_name='site_visits', postgresql_where=sa.text('visited_at IS NULL'))
    op.drop_index(op.f('ix_site_visits_case_id'), table_name='site_visits')
    op.drop_table('site_visits')


# Upgrade: JSON to rows.

def _json_to_rows(conn: sa.Connection) -> None:
    cases = conn.execute(sa.text(
        "SELECT id, state, assignee_id, surveyed_by_id, reinspected_by_id, survey, decision FROM cases "
        "WHERE survey IS NOT NULL OR decision IS NOT NULL OR state IN ('survey_assigned', 'reinspection_assigned') "
        "ORDER BY id")).mappings().all()
    if not cases:
        return
    ids = [case["id"] for case in cases]
    names = {doc["by"] for case in cases for doc in _documents(case) if doc.get("by")}
    user_ids = dict(conn.execute(sa.text("SELECT username, id FROM users WHERE username = ANY(:names)"),
                                 {"names": sorted(names)}).all())
    assignments: dict[int, list[Mapping[str, Any]]] = {case_id: [] for case_id in ids}
    for event in conn.execute(sa.text(
            "SELECT case_id, action, actor_id, at FROM case_events WHERE case_id = ANY(:ids) "
            "AND action IN ('assign_survey', 'assign_reinspection') ORDER BY id"), {"ids": ids}).mappings():
        assignments[event["case_id"]].append(event)
    visits, decisions = [], []
    for case in cases:
        survey = case["survey"] or {}
        recorded = [("survey", survey, case["surveyed_by_id"]),
                    ("reinspection", survey.get("reinspection") or {}, case["reinspected_by_id"])]
        for kind, document, visitor_id in recorded:
            if "findings" in document:
                visited_at = datetime.fromisoformat(document["at"])
                visitor = visitor_id or user_ids.get(document["by"])
                visits.append({**_assignment(assignments[case["id"]], kind, visited_at), "case_id": case["id"],
                               "kind": kind, "assigned_to_id": visitor, "visited_by_id": visitor,
                               "visited_by_name": document["by"], "visited_at": visited_at,
                               "findings": document["findings"],
                               "hazard_found": document.get("hazard_found") if kind == "survey" else None,
                               "passed": document.get("passed") if kind == "reinspection" else None})
        for kind, state in PENDING_STATE.items():
            if case["state"] == state:
                visits.append({**_assignment(assignments[case["id"]], kind, None), "case_id": case["id"],
                               "kind": kind, "assigned_to_id": case["assignee_id"], "visited_by_id": None,
                               "visited_by_name": None, "visited_at": None, "findings": None,
                               "hazard_found": None, "passed": None})
        decision = case["decision"]
        if decision:
            decisions.append({"case_id": case["id"], "action": decision["action"],
                              "decided_by_id": user_ids.get(decision["by"]), "decided_by_name": decision["by"],
                              "decided_at": datetime.fromisoformat(decision["at"]),
                              "measures": json.dumps(decision.get("measures") or [], ensure_ascii=False),
                              "note": decision.get("note"), "reported_to": decision.get("reported_to"),
                              "document_id": (decision.get("document") or {}).get("id")})
    if visits:
        conn.execute(INSERT_VISIT, visits)
    if decisions:
        conn.execute(INSERT_DECISION, decisions)


def _documents(case: Mapping[str, Any]) -> list[dict[str, Any]]:
    survey = case["survey"] or {}
    return [survey, survey.get("reinspection") or {}, case["decision"] or {}]


def _assignment(events: Sequence[Mapping[str, Any]], kind: str, before: datetime | None) -> dict[str, Any]:
    """Who sent the visitor and when: the last assignment of `kind` in the case's history (before
    the visit, for a recorded one); unknown if the history has none."""
    sent = [e for e in events if e["action"] == ASSIGN_ACTION[kind] and (before is None or e["at"] <= before)]
    last = sent[-1] if sent else None
    return {"assigned_by_id": last["actor_id"] if last else None, "assigned_at": last["at"] if last else None}


# Downgrade: rows to JSON, in the shape the API has always shown.

def _rows_to_json(conn: sa.Connection) -> None:
    surveys: dict[int, dict[str, Any]] = {}
    for visit in conn.execute(sa.text(
            "SELECT case_id, kind, visited_by_name, visited_at, findings, hazard_found, passed FROM site_visits "
            "WHERE visited_at IS NOT NULL ORDER BY case_id, id")).mappings():
        record = {"findings": visit["findings"], "by": visit["visited_by_name"], "at": _iso(visit["visited_at"])}
        if visit["kind"] == "survey":
            surveys[visit["case_id"]] = {"findings": record["findings"], "hazard_found": visit["hazard_found"],
                                         "by": record["by"], "at": record["at"]}
        elif visit["case_id"] in surveys:
            surveys[visit["case_id"]]["reinspection"] = {"findings": record["findings"], "passed": visit["passed"],
                                                         "by": record["by"], "at": record["at"]}
    decisions: dict[int, dict[str, Any]] = {}
    for row in conn.execute(sa.text(
            "SELECT DISTINCT ON (d.case_id) d.case_id, d.action, d.decided_by_name, d.decided_at, d.measures, "
            "d.note, d.reported_to, d.document_id, doc.serial_number FROM case_decisions d "
            "LEFT JOIN decision_documents doc ON doc.id = d.document_id ORDER BY d.case_id, d.id DESC")).mappings():
        decision = {"action": row["action"], "by": row["decided_by_name"], "at": _iso(row["decided_at"]),
                    "measures": row["measures"], "note": row["note"]}
        if row["reported_to"] is not None:
            decision["reported_to"] = row["reported_to"]
        if row["document_id"] is not None:
            decision["document"] = {"id": row["document_id"], "serial_number": row["serial_number"]}
        decisions[row["case_id"]] = decision
    updates = [{"id": case_id, "survey": _json(surveys.get(case_id)), "decision": _json(decisions.get(case_id))}
               for case_id in sorted(surveys.keys() | decisions.keys())]
    if updates:
        conn.execute(sa.text("UPDATE cases SET survey = CAST(:survey AS jsonb), decision = CAST(:decision AS jsonb) "
                             "WHERE id = :id"), updates)


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def _json(document: dict[str, Any] | None) -> str | None:
    return None if document is None else json.dumps(document, ensure_ascii=False)
