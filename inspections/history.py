"""Every change to a task or finding leaves a trace in the same transaction: an audit record (who,
what, before/after) and an outbox event for whoever needs to know (dispatchers, devices, webhooks).
Event types are `task.<what>` and `finding.<what>`; events with a place carry it as GeoJSON."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2.shape import to_shape
from shapely.geometry import mapping
from sqlalchemy.orm import Session

from core import outbox
from core.audit import service as audit_service
from core.context import Actor
from inspections.models import FieldTask, Finding

TASK = "field_task"
FINDING = "finding"


def geojson(geometry: Any) -> dict[str, Any]:
    """A stored geometry as an RFC 7946 GeoJSON dict."""
    return dict(mapping(to_shape(geometry)))


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def task_snapshot(task: FieldTask) -> dict[str, Any]:
    """What the audit log keeps of a task (its answers in full: they are the inspector's record)."""
    return {"uuid": str(task.uuid), "task_type": task.task_type, "state": task.state, "version": task.version,
            "title": task.title, "notes": task.notes, "priority": task.priority, "assignee_id": task.assignee_id,
            "due_from": _iso(task.due_from), "due_until": _iso(task.due_until),
            "required_qualifications": task.required_qualifications,
            "checklist_version_id": task.checklist_version_id, "answers": task.answers,
            "review_note": task.review_note, "asset_type": task.asset_type, "asset_id": task.asset_id}


def finding_snapshot(finding: Finding) -> dict[str, Any]:
    return {"uuid": str(finding.uuid), "task_id": finding.task_id, "severity": finding.severity,
            "category": finding.category, "description": finding.description,
            "recommended_action": finding.recommended_action, "asset_type": finding.asset_type,
            "asset_id": finding.asset_id, "geometry": geojson(finding.geom),
            "follow_up_task_id": finding.follow_up_task_id, "device_time": _iso(finding.device_time),
            "clearance_check": finding.clearance_check}


def record_task(db: Session, *, actor: Actor, task: FieldTask, action: str, before: dict[str, Any] | None,
                payload: dict[str, Any] | None = None, reason: str | None = None) -> None:
    """Audit `task.<action>` and announce it (outbox `task.<action>`) in the caller's transaction."""
    audit_service.record(db=db, actor=actor, action=f"task.{action}", entity_type=TASK, entity_id=task.id,
                         before=before, after=task_snapshot(task), reason=reason)
    outbox.emit(db=db, event_type=f"task.{action}", entity_type=TASK, entity_id=task.id,
                payload={"state": task.state, "version": task.version, "task_type": task.task_type,
                         "assignee_id": task.assignee_id, **(payload or {})},
                location_wkt=to_shape(task.location).wkt)


def record_finding(db: Session, *, actor: Actor, finding: Finding) -> None:
    """Audit the new finding and announce it; a critical one also as `finding.critical`, with its
    place, which the event relay delivers to the dispatchers at once."""
    after = finding_snapshot(finding)
    audit_service.record(db=db, actor=actor, action="finding.report", entity_type=FINDING, entity_id=finding.id,
                         before=None, after=after)
    payload = {"id": finding.id, "task_id": finding.task_id, "severity": finding.severity,
               "category": finding.category, "location": after["geometry"],
               "follow_up_task_id": finding.follow_up_task_id}
    place = to_shape(finding.geom).wkt
    outbox.emit(db=db, event_type="finding.reported", entity_type=FINDING, entity_id=finding.id, payload=payload,
                location_wkt=place)
    if finding.severity == "critical":
        outbox.emit(db=db, event_type="finding.critical", entity_type=FINDING, entity_id=finding.id, payload=payload,
                    location_wkt=place)
