"""Edge schemas of checklist templates: a new template, a new version, and a version as shown."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from inspections.checklists import MAX_ITEMS
from inspections.models import ChecklistVersion
from inspections.workflow import TaskType


class ChecklistVersionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[dict[str, Any]] = Field(max_length=MAX_ITEMS, description=(
        'Each {"key", "label", "answer_type": yes_no|number|choice|text|photo, "required"}, with "min", '
        '"max", "unit" for number and "choices" for choice'))


class ChecklistIn(ChecklistVersionIn):
    code: str = Field(min_length=2, max_length=60, pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1, max_length=200)
    task_type: TaskType


class ChecklistOut(BaseModel):
    code: str
    name: str
    task_type: str
    version: int
    items: list[dict[str, Any]]
    created_at: datetime
    created_by: str

    @classmethod
    def of(cls, version: ChecklistVersion) -> ChecklistOut:
        template = version.template
        return cls(code=template.code, name=template.name, task_type=template.task_type, version=version.version,
                   items=version.items, created_at=version.created_at, created_by=version.created_by)
