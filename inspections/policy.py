"""The field-work rules the utility sets, read from `inspections/data/*.json` (each value with its
source, DOMAIN.md §5): finding severities and categories with their handling times, the quality
sample share and grades, and the utility's local time zone. This module only
reads them; the services apply them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from inspections.workflow import TaskType

DATA = Path(__file__).resolve().parent / "data"


def _read(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return document


@dataclass(frozen=True)
class Severity:
    name: str
    handling_hours: int
    priority: int
    always_follow_up: bool


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    follow_up: bool
    follow_up_task_type: TaskType


@dataclass(frozen=True)
class FindingRules:
    severities: dict[str, Severity]
    categories: dict[str, Category]


@lru_cache(maxsize=1)
def finding_rules() -> FindingRules:
    document = _read("findings.json")
    return FindingRules(
        severities={name: Severity(name=name, handling_hours=int(entry["handling_hours"]),
                                   priority=int(entry["priority"]), always_follow_up=bool(entry["always_follow_up"]))
                    for name, entry in document["severities"].items()},
        categories={code: Category(code=code, name=entry["name"], follow_up=bool(entry["follow_up"]),
                                   follow_up_task_type=TaskType(entry["follow_up_task_type"]))
                    for code, entry in document["categories"].items()})


@dataclass(frozen=True)
class QualityRules:
    default_share: float
    # (grade, highest defect count it allows; None for the last grade, which takes any count)
    grades: tuple[tuple[str, int | None], ...]

    def grade_for(self, defect_count: int) -> str:
        for grade, max_defects in self.grades:
            if max_defects is None or defect_count <= max_defects:
                return grade
        raise ValueError("quality.json needs a last grade without max_defects")


@lru_cache(maxsize=1)
def quality_rules() -> QualityRules:
    document = _read("quality.json")
    return QualityRules(default_share=float(document["sample"]["default_share"]),
                        grades=tuple((g["grade"], g["max_defects"]) for g in document["grades"]))


@lru_cache(maxsize=1)
def local_timezone() -> ZoneInfo:
    """The zone of the utility's calendar days, the one place field work reads it (`local_time.json`):
    plan days, meter-reading windows, the local date a certificate is valid until."""
    return ZoneInfo(_read("local_time.json")["timezone"])
