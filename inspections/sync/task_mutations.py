"""Pushed items about field tasks: progress (accept, start, submit), field edits, checklist answers,
findings, and follow-up tasks created on the device. Each goes through `inspections.service`, which checks
who may do it, versions the change and audits it; a task is named by its uuid, so an item about a
task the server has not received yet waits in the backlog.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from core.errors import InvalidInput
from gis.geo.geojson_schema import GeoJSONGeometry
from gis.geo.geometry import GeometryLimits, parse_geometry
from inspections import service as task_service
from inspections.schemas import TreeMeasurementIn
from inspections.specs import FindingSpec, TaskSpec
from inspections.sync.mutations import Change, ItemContext, parse, require_base_version, task_id_for
from inspections.versioning import MergeOutcome
from inspections.workflow import TaskAction, TaskType

DEVICE_TASK_TYPES = Path(__file__).parent / "data" / "device_task_types.json"


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TaskActionData(_Data):
    task_uuid: UUID
    # The inspector's own steps; assigning, reviewing and closing happen in the office.
    action: Literal["accept", "start", "submit"]
    reason: str | None = Field(default=None, max_length=2000)


class TaskUpdateData(_Data):
    task_uuid: UUID
    changes: dict[str, Any] = Field(min_length=1)


class AnswersData(_Data):
    task_uuid: UUID
    answers: dict[str, Any] = Field(min_length=1)


class TaskCreateData(_Data):
    task_uuid: UUID = Field(description="Generated on the device: findings and answers name the task by it")
    task_type: TaskType
    title: str = Field(min_length=1, max_length=300)
    due_from: AwareDatetime
    due_until: AwareDatetime
    location: GeoJSONGeometry | None = None
    asset_type: str | None = Field(default=None, max_length=60)
    asset_id: int | None = None
    priority: int = Field(default=3, ge=1, le=5)
    notes: str = Field(default="", max_length=8000)
    checklist_code: str | None = Field(default=None, max_length=60)
    parent_task_uuid: UUID | None = None


class FindingData(_Data):
    task_uuid: UUID
    severity: Literal["critical", "major", "minor"]
    category: str = Field(min_length=1, max_length=60)
    description: str = Field(default="", max_length=8000)
    recommended_action: str = Field(default="", max_length=8000)
    location: GeoJSONGeometry | None = None
    asset_type: str | None = Field(default=None, max_length=60)
    asset_id: int | None = None
    follow_up: bool | None = None
    tree: TreeMeasurementIn | None = Field(default=None, description="A tree beside the overhead line named "
                                                                      "(asset_type line), as over the API")


def task_action(ctx: ItemContext) -> Change:
    """Progress made offline. The workflow decides from the task's state now, not from the version the
    device saw: an accept made offline still applies after the dispatcher edited the notes."""
    data = parse(TaskActionData, ctx)
    task = task_service.act(db=ctx.db, actor=ctx.actor, now=ctx.now, task_id=task_id_for(ctx, data.task_uuid),
                            action=TaskAction(data.action), expected_version=None, reason=data.reason)
    return Change(entity_type="field_task", entity_id=task.id, version=task.version, applied=("state",))


def task_update(ctx: ItemContext) -> Change:
    data = parse(TaskUpdateData, ctx)
    return _merge_edit(ctx, data.task_uuid, lambda task_id, base: task_service.update_task(
        db=ctx.db, actor=ctx.actor, now=ctx.now, task_id=task_id, changes=data.changes, base_version=base))


def answers(ctx: ItemContext) -> Change:
    data = parse(AnswersData, ctx)
    return _merge_edit(ctx, data.task_uuid, lambda task_id, base: task_service.save_answers(
        db=ctx.db, actor=ctx.actor, now=ctx.now, task_id=task_id, answers=data.answers, base_version=base,
        device_time=ctx.device_time))


def _merge_edit(ctx: ItemContext, task_uuid: UUID, edit: Callable[[int, int], MergeOutcome]) -> Change:
    """An offline edit of fields of the task, merged by the service against the device's base version;
    `stale` when the server had moved on since (the item is then `merged`, or `conflict`)."""
    base = require_base_version(ctx)
    task_id = task_id_for(ctx, task_uuid)
    outcome = edit(task_id, base)
    version_before = outcome.version - (1 if outcome.applied else 0)  # the service bumps it once when it writes
    return Change(entity_type="field_task", entity_id=task_id, version=outcome.version,
                  applied=tuple(sorted(outcome.applied)), conflicts=outcome.conflicts,
                  stale=version_before > base)


def finding(ctx: ItemContext) -> Change:
    """A defect found on the task; the item's uuid is the finding's uuid (one finding however often
    it is pushed). A critical one reaches the dispatchers through the service's outbox event; a tree
    measured beside a line is judged by the rule set's tree clearance as over the API."""
    data = parse(FindingData, ctx)
    task_id = task_id_for(ctx, data.task_uuid)
    spec = FindingSpec(severity=data.severity, category=data.category, description=data.description,
                       recommended_action=data.recommended_action, location_wkt=_wkt(ctx, data.location),
                       asset_type=data.asset_type, asset_id=data.asset_id, follow_up=data.follow_up,
                       tree=data.tree.spec() if data.tree is not None else None)
    found, _created = task_service.report_finding(db=ctx.db, actor=ctx.actor, now=ctx.now, task_id=task_id, spec=spec,
                                                  finding_uuid=ctx.uuid, device_time=ctx.device_time)
    return Change(entity_type="finding", entity_id=found.id, version=found.version)


def task_create(ctx: ItemContext) -> Change:
    """Follow-up work started on site, assigned to the inspector who created it, with the device's
    uuid (findings and answers pushed for it name it by that uuid)."""
    data = parse(TaskCreateData, ctx)
    if data.task_type.value not in device_task_types():
        raise InvalidInput(f"A {data.task_type.value} task cannot be created on a device; allowed: "
                           f"{', '.join(device_task_types())}.",
                           errors=[{"field": "data.task_type", "message": "not allowed on a device"}])
    if (data.location is None) == (data.asset_type is None):
        raise InvalidInput("A task needs either a location or an asset (asset_type and asset_id), not both.",
                           errors=[{"field": "data.location", "message": "location or asset"}])
    parent_id = task_id_for(ctx, data.parent_task_uuid) if data.parent_task_uuid else None
    location_wkt = _wkt(ctx, data.location)
    spec = TaskSpec(task_type=data.task_type, title=data.title, due_from=data.due_from, due_until=data.due_until,
                    location_wkt=location_wkt, asset_type=data.asset_type, asset_id=data.asset_id,
                    priority=data.priority, checklist_code=data.checklist_code, notes=data.notes,
                    assignee_id=ctx.actor.user_id, parent_task_id=parent_id, uuid=data.task_uuid,
                    origin={"kind": "device", "mutation": str(ctx.uuid)})
    task = task_service.create_task(db=ctx.db, actor=ctx.actor, now=ctx.now, spec=spec)
    return Change(entity_type="field_task", entity_id=task.id, version=task.version)


@cache
def device_task_types() -> tuple[str, ...]:
    return tuple(json.loads(DEVICE_TASK_TYPES.read_text(encoding="utf-8"))["task_types"])


def _wkt(ctx: ItemContext, geometry: dict[str, Any] | None) -> str | None:
    """A GeoJSON geometry of the item (EPSG:4326) as WKT, checked like every geometry the API takes."""
    if geometry is None:
        return None
    limits = GeometryLimits(max_vertices=ctx.settings.api.max_geometry_vertices)
    return parse_geometry(geometry, field="data.location", limits=limits).wkt
