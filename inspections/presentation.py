"""Tasks and findings as the API shows them: with the actions the caller may take, the checklist
version the task is done against, its answers and findings. A page is a fixed handful of queries
however many tasks it holds."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from core.context import Actor
from core.users.models import User
from inspections import access
from inspections.history import geojson
from inspections.models import ChecklistTemplate, FieldTask, Finding
from inspections.schemas import AssetRef, ChecklistRef, FindingOut, PersonRef, TaskOut


def _pairs(db: Session, stmt: Select[int, str]) -> dict[int, str]:
    """An id -> name look-up read in one query."""
    return {key: value for key, value in db.execute(stmt)}


def _asset(asset_type: str | None, asset_id: int | None) -> AssetRef | None:
    return AssetRef(type=asset_type, id=asset_id) if asset_type and asset_id else None


def finding_outs(*, db: Session, findings: Sequence[Finding]) -> list[FindingOut]:
    """Findings with the state of their follow-up task (one query for the page)."""
    follow_ids = {f.follow_up_task_id for f in findings if f.follow_up_task_id}
    states = _pairs(db, select(FieldTask.id, FieldTask.state).where(FieldTask.id.in_(follow_ids))) if follow_ids else {}
    return [FindingOut(id=f.id, uuid=f.uuid, task_id=f.task_id, severity=f.severity, category=f.category,
                       description=f.description, recommended_action=f.recommended_action,
                       asset=_asset(f.asset_type, f.asset_id), location=geojson(f.geom),
                       reported_by_id=f.reported_by_id, reported_at=f.reported_at, device_time=f.device_time,
                       follow_up_task_id=f.follow_up_task_id,
                       follow_up_state=states.get(f.follow_up_task_id) if f.follow_up_task_id else None,
                       clearance_check=f.clearance_check)
            for f in findings]


def task_outs(*, db: Session, actor: Actor, tasks: Sequence[FieldTask]) -> list[TaskOut]:
    user_ids = {t.assignee_id for t in tasks if t.assignee_id}
    users = _pairs(db, select(User.id, User.username).where(User.id.in_(user_ids))) if user_ids else {}
    template_ids = {t.checklist_version.template_id for t in tasks if t.checklist_version}
    codes = _pairs(db, select(ChecklistTemplate.id, ChecklistTemplate.code)
                   .where(ChecklistTemplate.id.in_(template_ids))) if template_ids else {}
    findings = finding_outs(db=db, findings=[f for t in tasks for f in t.findings])
    by_task: dict[int, list[FindingOut]] = {}
    for finding in findings:
        by_task.setdefault(finding.task_id, []).append(finding)
    return [TaskOut(
        id=t.id, uuid=t.uuid, task_type=t.task_type, state=t.state, version=t.version,
        allowed_actions=access.allowed_actions(actor, t), title=t.title, notes=t.notes, priority=t.priority,
        asset=_asset(t.asset_type, t.asset_id), location=geojson(t.location), voltage_kv=t.voltage_kv,
        due_from=t.due_from, due_until=t.due_until, required_qualifications=t.required_qualifications,
        checklist=ChecklistRef(code=codes[t.checklist_version.template_id], version=t.checklist_version.version,
                               items=t.checklist_version.items) if t.checklist_version else None,
        answers=t.answers, assignee=PersonRef(id=t.assignee_id, username=users[t.assignee_id])
        if t.assignee_id in users else None, assigned_at=t.assigned_at, accepted_at=t.accepted_at,
        started_at=t.started_at, submitted_at=t.submitted_at, reviewed_at=t.reviewed_at, review_note=t.review_note,
        closed_at=t.closed_at, plan_id=t.plan_id, case_id=t.case_id, parent_task_id=t.parent_task_id,
        origin=t.origin, findings=by_task.get(t.id, [])) for t in tasks]


def task_out(*, db: Session, actor: Actor, task: FieldTask) -> TaskOut:
    return task_outs(db=db, actor=actor, tasks=[task])[0]
