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
    # The report may carry a tree measured beside an overhead line (a clearance violation,
    # vegetation), which the rule set's tree clearance then weighs (`inspections.tree_clearance`).
    tree_measurement: bool = False


@dataclass(frozen=True)
class Bound:
    """The range a measured value must lie in: above `low` (or at it, when `low_inclusive`), at
    most `high`."""

    low: float
    low_inclusive: bool
    high: float

    def holds(self, value: float) -> bool:
        above = value >= self.low if self.low_inclusive else value > self.low
        return above and value <= self.high

    def describe(self) -> str:
        return f"{'at least' if self.low_inclusive else 'more than'} {self.low:g} and at most {self.high:g}"


@dataclass(frozen=True)
class TreeBounds:
    """The bounds of a tree measurement's values (metres), from `findings.json` `tree_measurement`."""

    height_m: Bound
    horizontal_m: Bound
    conductor_height_m: Bound


@dataclass(frozen=True)
class FindingRules:
    severities: dict[str, Severity]
    categories: dict[str, Category]
    tree: TreeBounds


def _bound(entry: dict[str, Any]) -> Bound:
    inclusive = "ge" in entry
    return Bound(low=float(entry["ge" if inclusive else "gt"]), low_inclusive=inclusive, high=float(entry["le"]))


@lru_cache(maxsize=1)
def finding_rules() -> FindingRules:
    document = _read("findings.json")
    return FindingRules(
        severities={name: Severity(name=name, handling_hours=int(entry["handling_hours"]),
                                   priority=int(entry["priority"]), always_follow_up=bool(entry["always_follow_up"]))
                    for name, entry in document["severities"].items()},
        categories={code: Category(code=code, name=entry["name"], follow_up=bool(entry["follow_up"]),
                                   follow_up_task_type=TaskType(entry["follow_up_task_type"]),
                                   tree_measurement=bool(entry.get("tree_measurement", False)))
                    for code, entry in document["categories"].items()},
        tree=TreeBounds(**{name: _bound(document["tree_measurement"][name])
                           for name in ("height_m", "horizontal_m", "conductor_height_m")}))


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
