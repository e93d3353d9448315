"""Edge schemas of inspection plans: a plan as the API shows it, and the administrator's
replacement of its editable fields (`PUT /inspection-plans/{code}`)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from inspections.workflow import TaskType


class QualificationNeeded(BaseModel):
    """A certificate every task of the plan needs; without `voltage_kv` the asset's voltage applies."""

    model_config = ConfigDict(extra="forbid")

    certificate_type: str = Field(min_length=1, max_length=100)
    voltage_kv: float | None = Field(default=None, gt=0, le=1000)


class PlanIn(BaseModel):
    """Everything of a plan an administrator sets. The asset class and the code stay what they are."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    min_kv: float = Field(ge=0, le=1200, description="Lowest asset voltage of the band (inclusive)")
    max_kv: float = Field(gt=0, le=1200, description="Highest asset voltage of the band (exclusive)")
    cycle_days: int = Field(ge=1, le=3660, description="An asset falls due this many days after its last task")
    window_days: int = Field(ge=1, le=366, description="Days a task has from the day it falls due")
    priority: int = Field(ge=1, le=5, description="1 most urgent .. 5")
    task_type: TaskType
    checklist_code: str | None = Field(default=None, max_length=60)
    required_qualifications: list[QualificationNeeded] = Field(default_factory=list, max_length=10)
    anchor_on: date = Field(description="Day the cycle counts from for an asset never inspected under the plan")
    active: bool
    source: str = Field(default="", max_length=2000, description="Where the numbers come from")

    @field_validator("max_kv")
    @classmethod
    def _band_not_empty(cls, value: float, info: ValidationInfo) -> float:
        low = info.data.get("min_kv")
        if low is not None and value <= low:
            raise ValueError("must be above min_kv (the band is min_kv <= voltage < max_kv)")
        return value


class PlanOut(BaseModel):
    """An inspection plan: which assets, how often, with which checklist and qualifications."""

    code: str
    name: str
    asset_class: str
    min_kv: float
    max_kv: float
    cycle_days: int
    window_days: int
    priority: int
    task_type: str
    checklist_code: str | None
    required_qualifications: list[QualificationNeeded]
    anchor_on: date
    active: bool
    source: str
    version: int
    updated_at: datetime


class PlanRunOut(BaseModel):
    """What one run of the plan job created, per plan code."""

    run_on: date
    created: dict[str, int]
