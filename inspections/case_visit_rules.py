"""What a case's site visit becomes as a field task, read from `inspections/data/case_visits.json`:
per visit kind, the task type, checklist, title and priority, and which checklist answers say what
the case workflow records (the findings, and hazard found or rectification passed)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from cases.visits import VisitKind
from cases.workflow import Action
from inspections.workflow import TaskType

RULES_PATH = Path(__file__).resolve().parent / "data" / "case_visits.json"


@dataclass(frozen=True)
class VisitTaskRule:
    task_type: TaskType
    checklist_code: str
    title: str
    priority: int
    required_qualifications: tuple[dict[str, Any], ...]
    record_action: Action  # what the task's submission does on the case
    findings_answer: str  # checklist item whose answer is the visit's findings
    outcome_answer: str  # checklist item whose yes/no answer is ...
    outcome_field: str  # ... the case's `hazard_found` (survey) or `passed` (re-inspection)


@cache
def visit_task_rules() -> dict[VisitKind, VisitTaskRule]:
    document = json.loads(RULES_PATH.read_text(encoding="utf-8"))
    return {VisitKind(kind): VisitTaskRule(
        task_type=TaskType(rule["task_type"]), checklist_code=rule["checklist_code"], title=rule["title"],
        priority=rule["priority"], required_qualifications=tuple(rule["required_qualifications"]),
        record_action=Action(rule["record_action"]), findings_answer=rule["findings_answer"],
        outcome_answer=rule["outcome_answer"], outcome_field=rule["outcome_field"])
        for kind, rule in document["visits"].items()}


def rule_for_task_type(task_type: str) -> VisitTaskRule | None:
    return next((rule for rule in visit_task_rules().values() if rule.task_type == task_type), None)
