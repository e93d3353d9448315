"""Inspection plans as administrators keep them: per asset class and voltage band, a cycle in days,
a task type, a checklist and the qualifications the work needs (`inspections/data/plans.json` holds
the defaults a migration seeds; each utility changes them here). Creating the tasks that fall due
is `inspections.plan_runs`.

Keyword-only functions, no HTTP, no commit: the caller's unit of work owns the transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import outbox
from core.audit import service as audit_service
from core.context import Actor
from core.errors import InvalidInput, NotFound, StaleVersion
from inspections.models import ChecklistTemplate, InspectionPlan
from inspections.plan_schemas import PlanIn, PlanOut, QualificationNeeded

ENTITY = "inspection_plan"


def _checklist_codes(db: Session, template_ids: set[int]) -> dict[int, str]:
    if not template_ids:
        return {}
    rows = db.execute(select(ChecklistTemplate.id, ChecklistTemplate.code).where(ChecklistTemplate.id.in_(template_ids)))
    return {row.id: row.code for row in rows}


def _out(plan: InspectionPlan, codes: dict[int, str]) -> PlanOut:
    return PlanOut(code=plan.code, name=plan.name, asset_class=plan.asset_class, min_kv=plan.min_kv,
                   max_kv=plan.max_kv, cycle_days=plan.cycle_days, window_days=plan.window_days,
                   priority=plan.priority, task_type=plan.task_type,
                   checklist_code=codes.get(plan.checklist_template_id) if plan.checklist_template_id else None,
                   required_qualifications=[QualificationNeeded(**q) for q in plan.required_qualifications],
                   anchor_on=plan.anchor_on, active=plan.active, source=plan.source, version=plan.version,
                   updated_at=plan.updated_at)


def list_plans(*, db: Session) -> list[PlanOut]:
    """Every plan, active or not, by code."""
    plans = list(db.scalars(select(InspectionPlan).order_by(InspectionPlan.code)))
    codes = _checklist_codes(db, {p.checklist_template_id for p in plans if p.checklist_template_id})
    return [_out(plan, codes) for plan in plans]


def _plan(db: Session, code: str, *, for_update: bool = False) -> InspectionPlan:
    stmt = select(InspectionPlan).where(InspectionPlan.code == code)
    plan = db.scalar(stmt.with_for_update() if for_update else stmt)
    if plan is None:
        raise NotFound(f"No inspection plan with code {code!r}.")
    return plan


def get_plan(*, db: Session, code: str) -> PlanOut:
    plan = _plan(db, code)
    return _out(plan, _checklist_codes(db, {plan.checklist_template_id} if plan.checklist_template_id else set()))


def _snapshot(plan: InspectionPlan, checklist_code: str | None) -> dict[str, Any]:
    """What the audit log keeps of a plan: every field that decides which tasks it creates."""
    return {"code": plan.code, "name": plan.name, "asset_class": plan.asset_class, "min_kv": plan.min_kv,
            "max_kv": plan.max_kv, "cycle_days": plan.cycle_days, "window_days": plan.window_days,
            "priority": plan.priority, "task_type": plan.task_type, "checklist_code": checklist_code,
            "required_qualifications": plan.required_qualifications, "anchor_on": plan.anchor_on.isoformat(),
            "active": plan.active, "source": plan.source, "version": plan.version}


def _template_id(db: Session, checklist_code: str | None) -> int | None:
    if checklist_code is None:
        return None
    found = db.scalar(select(ChecklistTemplate.id).where(ChecklistTemplate.code == checklist_code))
    if found is None:
        raise InvalidInput(f"No checklist template with code {checklist_code!r}.",
                           errors=[{"field": "checklist_code", "message": "unknown checklist"}])
    return found


def update_plan(*, db: Session, actor: Actor, code: str, expected_version: int, plan_in: PlanIn) -> PlanOut:
    """Replace a plan's editable fields (If-Match: its version). Tasks already created keep what
    they were created with; the next run of the plan job uses the new values."""
    plan = _plan(db, code, for_update=True)
    if plan.version != expected_version:
        raise StaleVersion(f"Inspection plan {code} was changed meanwhile (now version {plan.version}, you sent "
                           f"{expected_version}). Reload it and edit again.", current_version=plan.version)
    codes = _checklist_codes(db, {plan.checklist_template_id} if plan.checklist_template_id else set())
    before = _snapshot(plan, codes.get(plan.checklist_template_id or 0))
    plan.checklist_template_id = _template_id(db, plan_in.checklist_code)
    plan.name, plan.min_kv, plan.max_kv = plan_in.name, plan_in.min_kv, plan_in.max_kv
    plan.cycle_days, plan.window_days, plan.priority = plan_in.cycle_days, plan_in.window_days, plan_in.priority
    plan.task_type, plan.anchor_on, plan.active, plan.source = (plan_in.task_type.value, plan_in.anchor_on,
                                                                plan_in.active, plan_in.source)
    plan.required_qualifications = [q.model_dump(exclude_none=True) for q in plan_in.required_qualifications]
    plan.version += 1
    after = _snapshot(plan, plan_in.checklist_code)
    audit_service.record(db=db, actor=actor, action="inspection_plan.update", entity_type=ENTITY, entity_id=plan.id,
                         before=before, after=after)
    outbox.emit(db=db, event_type="inspection_plan.updated", entity_type=ENTITY, entity_id=plan.id,
                payload={"code": plan.code, "version": plan.version, "active": plan.active})
    db.flush()
    db.refresh(plan)
    return _out(plan, {plan.checklist_template_id: plan_in.checklist_code}
                if plan.checklist_template_id and plan_in.checklist_code else {})
