"""Stage deadlines in working days: the workflow's time limits on the utility's holiday calendar."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from permits.calendar import Remaining, WorkingCalendar, default_calendar_path, load_calendar
from permits.models import Case
from permits.rules import WorkflowRules, workflow_rules
from permits.workflow import State

# Entering these states does not restart the clock: assigning the surveyor is part of the survey
# stage, assigning the re-inspector part of the re-inspection stage.
CLOCK_CONTINUES = frozenset({State.survey_assigned, State.reinspection_assigned})


@lru_cache(maxsize=4)
def calendar_for(code: str) -> WorkingCalendar:
    return load_calendar(default_calendar_path(code))


def working_calendar(rules: WorkflowRules | None = None) -> WorkingCalendar:
    return calendar_for((rules or workflow_rules()).calendar_code)


def enter_stage(case: Case, state: State, *, now: datetime, rectification_days: int | None = None) -> None:
    """Move `case` into `state` and set the deadline of the stage it starts."""
    case.state = state.value
    if state in CLOCK_CONTINUES:
        return
    rules = workflow_rules()
    days = rules.stage_limit_days(state=state, voltage_kv=case.voltage_kv, department=case.department,
                                  rectification_days=rectification_days)
    case.stage_started_at = now
    case.deadline_at = None if days is None else working_calendar(rules).add_working_days(now, days)
    case.overdue_flagged_at = None


def remaining(case: Case, *, now: datetime) -> Remaining | None:
    if case.deadline_at is None:
        return None
    return working_calendar().remaining(now=now, deadline=case.deadline_at)
