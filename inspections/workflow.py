"""The field-task state machine: which action moves a task from which state, and who may take it.

    planned -> assigned -> accepted -> in_progress -> submitted -> approved -> closed
                  ^  (re-assign while not started)                 -> sent_back -> in_progress
    planned | assigned | accepted -> cancelled

Three-level quality control (DOMAIN.md §5): submitting is the inspector's self-check; a supervisor
reviews (approve, or send back with a reason; never edits the record); an auditor grades a random
sample of approved and closed tasks (`inspections.quality`). Pure Python; the service applies it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.permissions import Permission
from inspections.permissions import TASKS_PLAN, TASKS_REVIEW, TASKS_WORK


class TaskType(StrEnum):
    line_patrol = "line_patrol"
    transformer_inspection = "transformer_inspection"
    substation_inspection = "substation_inspection"
    meter_reading = "meter_reading"
    meter_reread = "meter_reread"
    site_survey = "site_survey"  # a case's survey (cases.visits)
    reinspection = "reinspection"  # a case's re-inspection after a hazard notice
    fault_visit = "fault_visit"
    usage_inspection = "usage_inspection"  # 用电检查: suspected theft or illegal use found at a meter
    encroachment_check = "encroachment_check"


class TaskState(StrEnum):
    planned = "planned"
    assigned = "assigned"
    accepted = "accepted"
    in_progress = "in_progress"
    submitted = "submitted"
    sent_back = "sent_back"
    approved = "approved"
    closed = "closed"
    cancelled = "cancelled"


class TaskAction(StrEnum):
    assign = "assign"
    accept = "accept"
    start = "start"
    submit = "submit"
    approve = "approve"
    send_back = "send_back"
    close = "close"
    cancel = "cancel"


OPEN_STATES = frozenset({TaskState.planned, TaskState.assigned, TaskState.accepted, TaskState.in_progress,
                         TaskState.sent_back})
FINAL_STATES = frozenset({TaskState.closed, TaskState.cancelled})


@dataclass(frozen=True)
class Transition:
    action: TaskAction
    source: frozenset[TaskState]
    target: TaskState
    permission: Permission
    # Only the task's assignee may take it (the inspector's own work).
    assignee_only: bool = False
    # Must not be taken by whoever submitted the task (separation of duties).
    not_by_submitter: bool = False
    needs_reason: bool = False


TRANSITIONS: tuple[Transition, ...] = (
    Transition(TaskAction.assign, frozenset({TaskState.planned, TaskState.assigned, TaskState.accepted}),
               TaskState.assigned, TASKS_PLAN),
    Transition(TaskAction.accept, frozenset({TaskState.assigned}), TaskState.accepted, TASKS_WORK, assignee_only=True),
    Transition(TaskAction.start, frozenset({TaskState.accepted, TaskState.sent_back}), TaskState.in_progress,
               TASKS_WORK, assignee_only=True),
    Transition(TaskAction.submit, frozenset({TaskState.in_progress}), TaskState.submitted, TASKS_WORK,
               assignee_only=True),
    Transition(TaskAction.approve, frozenset({TaskState.submitted}), TaskState.approved, TASKS_REVIEW,
               not_by_submitter=True),
    Transition(TaskAction.send_back, frozenset({TaskState.submitted}), TaskState.sent_back, TASKS_REVIEW,
               not_by_submitter=True, needs_reason=True),
    Transition(TaskAction.close, frozenset({TaskState.approved}), TaskState.closed, TASKS_REVIEW),
    Transition(TaskAction.cancel, frozenset({TaskState.planned, TaskState.assigned, TaskState.accepted}),
               TaskState.cancelled, TASKS_PLAN, needs_reason=True),
)
BY_ACTION = {t.action: t for t in TRANSITIONS}


def allowed_actions(state: TaskState) -> list[TaskAction]:
    return [t.action for t in TRANSITIONS if state in t.source]
