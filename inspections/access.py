"""Who sees and does what on one task, beyond the role's permissions: an inspector sees only the
tasks assigned to them and works only on those; the submitter never reviews their own work; the
record of the work (answers, findings) is the assignee's alone (a reviewer sends it back, never
edits it, DOMAIN.md §1). Pure functions of the actor and the task; the service raises."""

from __future__ import annotations

from core.context import Actor
from core.permissions import has_permission
from inspections.models import FieldTask
from inspections.permissions import TASKS_PLAN, TASKS_READ_ALL, TASKS_WORK
from inspections.workflow import TRANSITIONS, TaskState, Transition

# The task fields a planner may edit, and the ones the assignee may (their own notes).
PLANNER_FIELDS = ("title", "notes", "priority", "due_from", "due_until")
ASSIGNEE_FIELDS = ("notes",)
# States in which the assignee records work (answers, findings).
WORKING_STATES = frozenset({TaskState.accepted, TaskState.in_progress, TaskState.sent_back})
# States in which a task's plan (title, notes, priority, window) may still change: once submitted, the
# record is under review and is only sent back, never edited.
EDITABLE_STATES = frozenset({TaskState.planned, TaskState.assigned, TaskState.accepted, TaskState.in_progress,
                             TaskState.sent_back})


def sees_every_task(actor: Actor) -> bool:
    return has_permission(actor.role, TASKS_READ_ALL)


def can_see(actor: Actor, task: FieldTask) -> bool:
    return sees_every_task(actor) or (actor.user_id is not None and task.assignee_id == actor.user_id)


def is_assignee(actor: Actor, task: FieldTask) -> bool:
    """The actor does field work and the task is theirs."""
    return (has_permission(actor.role, TASKS_WORK) and actor.user_id is not None
            and task.assignee_id == actor.user_id)


def refusal(actor: Actor, task: FieldTask, transition: Transition) -> str | None:
    """Why `actor` may not take `transition` on `task` (None: they may), whatever its state."""
    if not has_permission(actor.role, transition.permission):
        return f"Role {actor.role} may not {transition.action.value} a task (needs {transition.permission})."
    if transition.assignee_only and not is_assignee(actor, task):
        return f"Only the task's assignee may {transition.action.value} it."
    if transition.not_by_submitter and actor.user_id is not None and actor.user_id == task.submitted_by_id:
        return "You submitted this task; another supervisor must review it (separation of duties)."
    return None


def allowed_actions(actor: Actor, task: FieldTask) -> list[str]:
    """The actions `actor` could take on `task` now (what the task's page offers them)."""
    state = TaskState(task.state)
    return [t.action.value for t in TRANSITIONS if state in t.source and refusal(actor, task, t) is None]


def editable_fields(actor: Actor, task: FieldTask) -> frozenset[str]:
    """The task fields `actor` may change now."""
    if TaskState(task.state) not in EDITABLE_STATES:
        return frozenset()
    fields: set[str] = set()
    if has_permission(actor.role, TASKS_PLAN):
        fields.update(PLANNER_FIELDS)
    if is_assignee(actor, task):
        fields.update(ASSIGNEE_FIELDS)
    return frozenset(fields)
