"""Field tasks and findings as the API offers them: one function per operation, each doing the
whole operation (edge input -> specs -> service) and returning what the caller sends back, read
after the change. Keyword-only, no HTTP, no commit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.context import Actor
from core.errors import InvalidInput
from core.fingerprint import Submitted
from core.settings import Settings
from gis.geo.geometry import GeometryLimits, parse_geometry
from inspections import findings, queries, service
from inspections.presentation import finding_outs, task_out, task_outs
from inspections.schemas import AnswersIn, FindingIn, FindingOut, TaskActionIn, TaskIn, TaskOut, TaskPatch
from inspections.specs import FindingSpec, TaskSpec


def _wkt(settings: Settings, geometry: dict[str, Any] | None, epsg: int, field: str) -> str | None:
    """A client's GeoJSON in `epsg` as checked WKT in EPSG:4326 (None when none was sent)."""
    if geometry is None:
        return None
    limits = GeometryLimits(max_vertices=settings.api.max_geometry_vertices)
    return parse_geometry(geometry, epsg=epsg, field=field, limits=limits).wkt


def create_task(*, db: Session, actor: Actor, settings: Settings, now: datetime, body: TaskIn, epsg: int) -> TaskOut:
    spec = TaskSpec(task_type=body.task_type, title=body.title, due_from=body.due_from, due_until=body.due_until,
                    location_wkt=_wkt(settings, body.location, epsg, "location"), asset_type=body.asset_type,
                    asset_id=body.asset_id, priority=body.priority, voltage_kv=body.voltage_kv,
                    required_qualifications=tuple(q.model_dump() for q in body.required_qualifications),
                    checklist_code=body.checklist_code, notes=body.notes, assignee_id=body.assignee_id)
    return task_out(db=db, actor=actor, task=service.create_task(db=db, actor=actor, now=now, spec=spec))


def list_tasks(*, db: Session, actor: Actor, query: queries.TaskFilter) -> list[TaskOut]:
    return task_outs(db=db, actor=actor, tasks=queries.list_tasks(db=db, actor=actor, query=query))


def get_task(*, db: Session, actor: Actor, task_id: int) -> TaskOut:
    return task_out(db=db, actor=actor, task=service.get_task(db=db, actor=actor, task_id=task_id))


def update_task(*, db: Session, actor: Actor, now: datetime, task_id: int, patch: TaskPatch,
                expected_version: int) -> TaskOut:
    """Change the task's plan; over the API a stale If-Match is refused (412), never merged."""
    changes = patch.model_dump(exclude_unset=True)
    if not changes:
        raise InvalidInput("Send at least one field to change.", errors=[{"field": "body", "message": "empty"}])
    service.update_task(db=db, actor=actor, now=now, task_id=task_id, changes=changes, base_version=expected_version,
                        require_current=True)
    return get_task(db=db, actor=actor, task_id=task_id)


def act(*, db: Session, actor: Actor, now: datetime, task_id: int, body: TaskActionIn,
        expected_version: int) -> TaskOut:
    task = service.act(db=db, actor=actor, now=now, task_id=task_id, action=body.action,
                       expected_version=expected_version, assignee_id=body.assignee_id, reason=body.reason)
    return task_out(db=db, actor=actor, task=task)


def save_answers(*, db: Session, actor: Actor, now: datetime, task_id: int, body: AnswersIn,
                 expected_version: int) -> TaskOut:
    """Record checklist answers; over the API a stale If-Match is refused (412), never merged."""
    service.save_answers(db=db, actor=actor, now=now, task_id=task_id, answers=body.answers,
                         base_version=expected_version, device_time=body.device_time, require_current=True)
    return get_task(db=db, actor=actor, task_id=task_id)


def report_finding(*, db: Session, actor: Actor, settings: Settings, now: datetime, task_id: int, body: FindingIn,
                   epsg: int) -> Submitted[FindingOut]:
    """Record a finding; its uuid sent again with the same report answers with the first finding
    (`created` False), with a different report is refused (422, nothing stored)."""
    spec = FindingSpec(severity=body.severity, category=body.category, description=body.description,
                       recommended_action=body.recommended_action,
                       location_wkt=_wkt(settings, body.location, epsg, "location"), asset_type=body.asset_type,
                       asset_id=body.asset_id, follow_up=body.follow_up,
                       tree=body.tree.spec() if body.tree is not None else None)
    finding, created = service.report_finding(db=db, actor=actor, now=now, task_id=task_id, spec=spec,
                                              finding_uuid=body.uuid, device_time=body.device_time)
    if not created and not findings.same_report(finding, task_id=task_id, spec=spec):
        raise InvalidInput(f"Finding {body.uuid} was already reported with different content; a new finding needs "
                           "a new uuid (nothing was stored).", errors=[{"field": "uuid", "message": "already used"}])
    return Submitted(finding_outs(db=db, findings=[finding])[0], created=created)


def list_findings(*, db: Session, query: findings.FindingFilter) -> list[FindingOut]:
    return finding_outs(db=db, findings=findings.list_findings(db=db, query=query))
