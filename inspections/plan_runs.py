"""The daily plan job: for every active inspection plan, one task for each asset of its class and
voltage band that has fallen due, in one set-based INSERT per plan.

An asset falls due on the run day `D` when its last task under the plan was due `cycle_days` or
more before `D` (an asset never inspected under the plan counts from the plan's `anchor_on`). The
task is due on `D`: its window runs from local midnight of `D` for `window_days` days, in the
utility's time zone (`inspections/data/local_time.json`). A run that was missed is caught up by the next one (one
task, due on that day, from which the cycle then counts). Running the job twice for a day creates
nothing more: the unique index `uq_field_tasks_plan_asset_due` (plan, asset, due day) refuses the
second row (`ON CONFLICT DO NOTHING`).

Each row is what `inspections.service.create_task` would make of the plan's `TaskSpec`: state
planned, version 1, the plan's checklist (its latest version at the run), priority and
qualifications, the asset's geometry as location. Instead of an audit record and an outbox event per
task (the network has ~35,000 lines and ~73,500 switches), a run writes one audit record with the
counts per plan and one `tasks.planned` event per plan that created tasks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, String, and_, cast, func, literal, select
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.orm import Session

from core import outbox
from core.audit import service as audit_service
from core.context import Actor
from gis.network.models import Construction, Line, Substation, Switch, Transformer
from inspections.models import ChecklistVersion, FieldTask, InspectionPlan
from inspections.task_fields import TITLE_MAX
from inspections.workflow import TaskState


@dataclass(frozen=True)
class AssetSource:
    """Where the assets of one plan class come from: table, the `asset_type` tasks name them by,
    the column holding their voltage, and any further condition (overhead or cable)."""

    model: Any
    asset_type: str
    voltage: Any
    condition: ColumnElement[bool] | None = None


ASSET_SOURCES: dict[str, AssetSource] = {
    "overhead_line": AssetSource(Line, "line", Line.nominal_kv, Line.construction == Construction.overhead),
    "cable": AssetSource(Line, "line", Line.nominal_kv, Line.construction == Construction.cable),
    "transformer": AssetSource(Transformer, "transformer", Transformer.hv_kv),
    "substation": AssetSource(Substation, "substation", Substation.nominal_kv),
    "switch": AssetSource(Switch, "switch", Switch.nominal_kv),
}


@dataclass(frozen=True)
class PlanRun:
    """What one run created: the number of tasks per plan code (0 for a plan with nothing due)."""

    run_on: date
    created: dict[str, int]


def local_today(now: datetime, zone: ZoneInfo) -> date:
    """The utility's calendar day at `now`."""
    return now.astimezone(zone).date()


def window(run_on: date, window_days: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """From local midnight of `run_on` to local midnight `window_days` later, as UTC instants."""
    start = datetime.combine(run_on, time.min, tzinfo=zone)
    end = datetime.combine(run_on + timedelta(days=window_days), time.min, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def _qualifications(plan: InspectionPlan, voltage: Any) -> ColumnElement[Any]:
    """The plan's qualifications for one asset: a requirement without `voltage_kv` takes the asset's."""
    parts = [cast(literal(json.dumps(q), String), JSONB) if "voltage_kv" in q else
             func.jsonb_build_object(*[v for item in q.items() for v in item], "voltage_kv", voltage)
             for q in plan.required_qualifications]
    return func.jsonb_build_array(*parts) if parts else cast(literal("[]", String), JSONB)


def _latest_checklist_version(db: Session, template_id: int | None) -> int | None:
    if template_id is None:
        return None
    return db.scalar(select(ChecklistVersion.id).where(ChecklistVersion.template_id == template_id)
                     .order_by(ChecklistVersion.version.desc()).limit(1))


def _due_rows(db: Session, *, plan: InspectionPlan, run_on: date, zone: ZoneInfo) -> Select[Any]:
    """The task rows of `plan`'s assets that fall due on `run_on`."""
    source = ASSET_SOURCES[plan.asset_class]
    asset = source.model
    last = (select(FieldTask.asset_id, func.max(FieldTask.plan_due_on).label("due_on"))
            .where(FieldTask.plan_id == plan.id, FieldTask.asset_type == source.asset_type)
            .group_by(FieldTask.asset_id).subquery())
    due_from, due_until = window(run_on, plan.window_days, zone)
    conditions = [asset.deleted_at.is_(None), source.voltage >= plan.min_kv, source.voltage < plan.max_kv,
                  func.coalesce(last.c.due_on, plan.anchor_on) + plan.cycle_days <= run_on]
    if source.condition is not None:
        conditions.append(source.condition)
    name = func.coalesce(func.nullif(asset.name, ""), asset.external_id)
    return (select(func.gen_random_uuid(), literal(plan.task_type), literal(TaskState.planned.value), literal(1),
                   func.left(literal(plan.name + ": ") + name, TITLE_MAX), literal(plan.priority), literal(source.asset_type), asset.id,
                   asset.geom, source.voltage, literal(due_from), literal(due_until), _qualifications(plan, source.voltage),
                   literal(_latest_checklist_version(db, plan.checklist_template_id)), literal(plan.id),
                   literal(run_on), cast(literal(json.dumps({"kind": "plan", "code": plan.code})), JSONB))
            .select_from(asset).outerjoin(last, last.c.asset_id == asset.id).where(and_(*conditions)))


ROW_COLUMNS = ("uuid", "task_type", "state", "version", "title", "priority", "asset_type", "asset_id", "location",
               "voltage_kv", "due_from", "due_until", "required_qualifications", "checklist_version_id", "plan_id",
               "plan_due_on", "origin")


def create_due_tasks(*, db: Session, actor: Actor, run_on: date, zone: ZoneInfo) -> PlanRun:
    """Create the tasks of every active plan that fall due on `run_on` (see the module's docstring)."""
    created: dict[str, int] = {}
    for plan in db.scalars(select(InspectionPlan).where(InspectionPlan.active.is_(True)).order_by(InspectionPlan.code)):
        statement = (insert(FieldTask).from_select(list(ROW_COLUMNS), _due_rows(db, plan=plan, run_on=run_on, zone=zone))
                     .on_conflict_do_nothing(index_elements=["plan_id", "asset_type", "asset_id", "plan_due_on"],
                                             index_where=FieldTask.plan_id.is_not(None))
                     .returning(FieldTask.id))
        count = len(db.execute(statement).all())
        created[plan.code] = count
        if count:
            outbox.emit(db=db, event_type="tasks.planned", entity_type="inspection_plan", entity_id=plan.id,
                        payload={"plan": plan.code, "due_on": run_on.isoformat(), "created": count,
                                 "task_type": plan.task_type})
    audit_service.record(db=db, actor=actor, action="tasks.plan_run", entity_type="inspection_plan_run",
                         entity_id=run_on.isoformat(), before=None,
                         after={"run_on": run_on.isoformat(), "created": created, "total": sum(created.values())})
    return PlanRun(run_on=run_on, created=created)
