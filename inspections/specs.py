"""What a caller asks for when it creates a task or reports a finding: plain dataclasses, so that
every way in (the API, the plan job, a case's site visit, a meter reading, an offline push) speaks
to `inspections.service` the same way. Pydantic stays at the edge (`inspections.schemas`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from inspections.workflow import TaskType


@dataclass(frozen=True)
class TaskSpec:
    """A task to create. The place is `location_wkt` (EPSG:4326), or the geometry of the asset
    `asset_type`/`asset_id` names (an asset reference with a location keeps both).

    `required_qualifications`: `{"certificate_type": str, "voltage_kv": float}` each; `checklist_code`
    takes the latest version of that template at creation, which the task then keeps."""

    task_type: TaskType
    title: str
    due_from: datetime
    due_until: datetime
    location_wkt: str | None = None
    asset_type: str | None = None
    asset_id: int | None = None
    priority: int = 3
    voltage_kv: float | None = None
    required_qualifications: tuple[Mapping[str, Any], ...] = ()
    checklist_code: str | None = None
    notes: str = ""
    assignee_id: int | None = None
    plan_id: int | None = None
    plan_due_on: date | None = None
    site_visit_id: int | None = None
    case_id: int | None = None
    parent_task_id: int | None = None
    origin: Mapping[str, Any] = field(default_factory=dict)  # e.g. {"kind": "finding", "id": 12}
    uuid: UUID | None = None


@dataclass(frozen=True)
class TreeMeasurement:
    """A tree measured beside an overhead line: its height now, its horizontal distance from the
    line's outermost conductor at rest (0 under the conductors) and, when measured on site, the
    lowest conductor's height (else the line's record or its voltage's default)."""

    height_m: float
    horizontal_m: float
    conductor_height_m: float | None = None

    def as_dict(self) -> dict[str, float | None]:
        return {"height_m": self.height_m, "horizontal_m": self.horizontal_m,
                "conductor_height_m": self.conductor_height_m}


@dataclass(frozen=True)
class FindingSpec:
    """A defect found in the field. The place is `location_wkt` (EPSG:4326), else the asset's
    geometry, else the task's location. `follow_up` None lets the category decide
    (`inspections/data/findings.json`); a critical finding always gets one, and so does a tree
    (`tree`, on an overhead line) that breaks a clearance whose outcome is a conflict."""

    severity: str
    category: str
    description: str = ""
    recommended_action: str = ""
    location_wkt: str | None = None
    asset_type: str | None = None
    asset_id: int | None = None
    follow_up: bool | None = None
    tree: TreeMeasurement | None = None
