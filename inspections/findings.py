"""Findings (defects): checking a report against the severities and categories the utility set
(`inspections/data/findings.json`), where it is, a tree measured beside an overhead line weighed by
the rule set's tree clearance (`inspections.tree_clearance`), whether it needs a follow-up visit,
whether a report sent again says the same, and the dispatcher console's list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from geoalchemy2.shape import to_shape
from shapely import wkt
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from core.context import Actor
from core.errors import InvalidInput
from inspections import tree_clearance
from inspections.models import FieldTask, Finding
from inspections.policy import finding_rules
from inspections.specs import FindingSpec, TreeMeasurement
from inspections.task_fields import location_of
from inspections.workflow import FINAL_STATES

DESCRIPTION_MAX = 8000
# Two reports of one finding are the same place if they differ by less than this (degrees, ~1 mm).
SAME_PLACE_DEGREES = 1e-8
FINAL = [state.value for state in FINAL_STATES]


def _check(spec: FindingSpec) -> None:
    rules = finding_rules()
    if spec.severity not in rules.severities:
        raise InvalidInput(f"severity must be one of {', '.join(rules.severities)}.",
                           errors=[{"field": "severity", "message": "unknown"}])
    if spec.category not in rules.categories:
        raise InvalidInput(f"category must be one of {', '.join(rules.categories)}.",
                           errors=[{"field": "category", "message": "unknown"}])
    for field, text in (("description", spec.description), ("recommended_action", spec.recommended_action)):
        if len(text) > DESCRIPTION_MAX or "\x00" in text:
            raise InvalidInput(f"{field} is at most {DESCRIPTION_MAX} characters.",
                               errors=[{"field": field, "message": "too long"}])
    if spec.tree is not None:
        _check_tree(spec, spec.tree)


def _check_tree(spec: FindingSpec, tree: TreeMeasurement) -> None:
    """A tree measurement only where the category takes one (`tree_measurement` in findings.json),
    only beside a line (whether it is an overhead one is read with the line), each value within the
    bounds findings.json gives."""
    rules = finding_rules()
    if not rules.categories[spec.category].tree_measurement:
        allowed = ", ".join(code for code, category in rules.categories.items() if category.tree_measurement)
        raise InvalidInput(f"A tree measurement belongs to a finding of category {allowed}; {spec.category} "
                           "takes none.",
                           errors=[{"field": "tree", "message": "not taken for this category"}])
    if spec.asset_type != tree_clearance.LINE:
        raise InvalidInput("A tree measurement is taken beside an overhead line: name it with asset_type "
                           f"{tree_clearance.LINE!r} and its asset_id.",
                           errors=[{"field": "asset_type", "message": "a tree measurement needs a line"}])
    for name in ("height_m", "horizontal_m", "conductor_height_m"):
        value: float | None = getattr(tree, name)
        bound = getattr(rules.tree, name)
        if value is not None and not bound.holds(value):
            raise InvalidInput(f"tree.{name} must be {bound.describe()} metres.",
                               errors=[{"field": f"tree.{name}", "message": "out of range"}])


def _judge_tree(db: Session, asset_id: int | None, tree: TreeMeasurement) -> dict[str, Any]:
    """The judgement of a tree beside the line `asset_id` names (`location_of` has checked it)."""
    if asset_id is None:
        raise InvalidInput("A tree measurement names its line by asset_id.",
                           errors=[{"field": "asset_id", "message": "a tree measurement needs a line"}])
    line = tree_clearance.measured_line(db=db, asset_id=asset_id)
    return tree_clearance.assess(db=db, line=line, tree=tree)


def needs_follow_up(spec: FindingSpec, *, clearance_check: dict[str, Any] | None) -> bool:
    """A critical finding always, and so does a tree that breaks a clearance whose breach the rule
    set calls a conflict: both endanger people or the line whatever the reporter chose. Otherwise
    (a kept clearance included: it says nothing against the reporter's judgement, the tree may still
    want trimming before it grows) what the reporter said, else what the category says."""
    rules = finding_rules()
    if rules.severities[spec.severity].always_follow_up or tree_clearance.demands_follow_up(clearance_check):
        return True
    return spec.follow_up if spec.follow_up is not None else rules.categories[spec.category].follow_up


def new_finding(*, db: Session, actor: Actor, now: datetime, task: FieldTask, spec: FindingSpec, finding_uuid: UUID,
                device_time: datetime | None) -> Finding:
    """A checked finding on `task`, placed where it says, else on its asset, else at the task; a tree
    measurement is judged by the default rule set's tree clearance and the judgement kept with it."""
    _check(spec)
    if spec.location_wkt is None and spec.asset_type is None and spec.asset_id is None:
        geometry = task.location
    else:
        geometry = location_of(db=db, location_wkt=spec.location_wkt, asset_type=spec.asset_type,
                               asset_id=spec.asset_id)
    clearance_check = _judge_tree(db, spec.asset_id, spec.tree) if spec.tree is not None else None
    finding = Finding(uuid=finding_uuid, task_id=task.id, version=1, field_versions={}, severity=spec.severity,
                      category=spec.category, description=spec.description,
                      recommended_action=spec.recommended_action, asset_type=spec.asset_type, asset_id=spec.asset_id,
                      geom=geometry, reported_by_id=actor.user_id, reported_at=now, device_time=device_time,
                      clearance_check=clearance_check)
    db.add(finding)
    db.flush()
    return finding


def same_report(finding: Finding, *, task_id: int, spec: FindingSpec) -> bool:
    """Whether a report sent again under the finding's uuid says what the first one said (a tree
    measured otherwise is another report: its judgement could differ)."""
    tree = spec.tree.as_dict() if spec.tree is not None else None
    same = (finding.task_id == task_id and finding.severity == spec.severity and finding.category == spec.category
            and finding.description == spec.description and finding.recommended_action == spec.recommended_action
            and finding.asset_type == spec.asset_type and finding.asset_id == spec.asset_id
            and tree_clearance.measurement_of(finding.clearance_check) == tree)
    if same and spec.location_wkt is not None:
        same = to_shape(finding.geom).equals_exact(wkt.loads(spec.location_wkt), SAME_PLACE_DEGREES)
    return same


@dataclass(frozen=True)
class FindingFilter:
    severity: str | None = None
    # open: its follow-up task is not closed or cancelled; done: it is; none: no follow-up task
    follow_up: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    after_id: int | None = None
    limit: int = 100


def list_findings(*, db: Session, query: FindingFilter) -> list[Finding]:
    """The dispatcher console's findings, in id order (keyset paged)."""
    follow = aliased(FieldTask)
    stmt = select(Finding).outerjoin(follow, follow.id == Finding.follow_up_task_id)
    if query.severity:
        stmt = stmt.where(Finding.severity == query.severity)
    if query.follow_up == "none":
        stmt = stmt.where(Finding.follow_up_task_id.is_(None))
    elif query.follow_up == "open":
        stmt = stmt.where(follow.state.not_in(FINAL))
    elif query.follow_up == "done":
        stmt = stmt.where(follow.state.in_(FINAL))
    if query.bbox:
        stmt = stmt.where(func.ST_Intersects(Finding.geom, func.ST_MakeEnvelope(*query.bbox, 4326)))
    if query.after_id:
        stmt = stmt.where(Finding.id > query.after_id)
    return list(db.scalars(stmt.order_by(Finding.id).limit(query.limit)))
