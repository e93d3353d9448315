"""Field tasks from creation to closure: create, act (the state machine with qualification gating
and the self-check on submit), update (field-level merge of offline edits), answers and findings.
Keyword-only functions taking the session, the actor and the moment; no HTTP, no commit (the
caller's unit of work commits). Every change is audited and announced (`inspections.history`).

Every caller (the API, the plan job, case visits, meter reading, offline sync) goes through these,
so the rules hold whichever way a change arrives.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from geoalchemy2.shape import to_shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from core.context import Actor
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied, StaleVersion
from core.users.models import User
from inspections import access, findings, history, qualifications, task_fields
from inspections.checklists import missing_required, validate_answers
from inspections.models import FieldTask, Finding
from inspections.policy import finding_rules
from inspections.specs import FindingSpec, TaskSpec
from inspections.templates import latest_version_of
from inspections.versioning import MergeOutcome, merge, touch
from inspections.workflow import BY_ACTION, TaskAction, TaskState


def get_task(*, db: Session, actor: Actor, task_id: int, for_update: bool = False) -> FieldTask:
    """The task if `actor` may see it; another inspector's task is as absent as a missing one."""
    stmt = select(FieldTask).where(FieldTask.id == task_id).execution_options(populate_existing=True)
    task = db.scalar(stmt.with_for_update(of=FieldTask) if for_update else stmt)
    if task is None or not access.can_see(actor, task):
        raise NotFound(f"No task with id {task_id}.")
    return task


# A task given to someone is `task.assigned` whichever way it happens (at creation or by the
# assign action): the one event the assignee's device and the console listen for.
ASSIGNED = "assigned"


def _check_current(task: FieldTask, version: int | None, required: bool) -> None:
    if required and task.version != version:
        raise StaleVersion(f"Task {task.id} was changed meanwhile (now version {task.version}, you sent "
                           f"{version}); reload it.", current_version=task.version)


def _assignee(db: Session, user_id: int) -> User:
    user = db.get(User, user_id, options=[selectinload(User.qualifications)])
    if user is None:
        raise InvalidInput(f"No user with id {user_id}.", errors=[{"field": "assignee_id", "message": "unknown user"}])
    return user


def create_task(*, db: Session, actor: Actor, now: datetime, spec: TaskSpec) -> FieldTask:
    """A new task, `planned`, or `assigned` when the spec names an assignee (qualification-gated as
    `act(assign)`). Who may create tasks is the caller's check (the API: tasks:plan); follow-ups,
    re-reads and plan cycles create them on behalf of their own actors. A spec whose `uuid` is
    already a task returns that task unchanged (a device's create sent again)."""
    if spec.uuid is not None and (existing := db.scalar(select(FieldTask).where(FieldTask.uuid == spec.uuid))):
        return existing
    values = task_fields.checked(db=db, spec=spec)
    checklist = latest_version_of(db=db, code=spec.checklist_code) if spec.checklist_code else None
    task = FieldTask(**values, state=TaskState.planned.value, version=1, field_versions={},
                     checklist_version_id=checklist.id if checklist else None, answers={},
                     created_by_id=actor.user_id, **({"uuid": spec.uuid} if spec.uuid else {}))
    db.add(task)
    db.flush()
    history.record_task(db, actor=actor, task=task, action="created", before=None,
                        payload={"location": history.geojson(task.location), "due_until": task.due_until.isoformat()})
    if spec.assignee_id is not None:
        before = history.task_snapshot(task)
        _assign(db, actor=actor, now=now, task=task, assignee_id=spec.assignee_id)
        task.state = TaskState.assigned.value
        touch(task, ["state", "assignee_id"])
        history.record_task(db, actor=actor, task=task, action=ASSIGNED, before=before)
    db.flush()
    return task


def _assign(db: Session, *, actor: Actor, now: datetime, task: FieldTask, assignee_id: int) -> None:
    qualifications.check_assignee(user=_assignee(db, assignee_id), requirements=task.required_qualifications,
                                  due_until=task.due_until)
    task.assignee_id, task.assigned_by_id, task.assigned_at = assignee_id, actor.user_id, now
    task.accepted_at = task.started_at = None


def act(*, db: Session, actor: Actor, now: datetime, task_id: int, action: TaskAction, expected_version: int | None,
        assignee_id: int | None = None, reason: str | None = None) -> FieldTask:
    """Move the task on by `action` if its state, the actor and the rules allow it: 412 on a stale
    version, 409 for a move its state does not allow (naming the allowed ones) or an assignee
    without the certificate, 403 for the wrong person, 422 for a missing reason, assignee or answer."""
    task = get_task(db=db, actor=actor, task_id=task_id, for_update=True)
    _check_current(task, expected_version, expected_version is not None)
    transition, state = BY_ACTION[action], TaskState(task.state)
    if state not in transition.source:
        allowed = access.allowed_actions(actor, task)
        raise Conflict(f"{action.value} is not possible for a task in state {state.value}; allowed now: "
                       f"{', '.join(allowed) or 'none'}.", allowed_actions=allowed)
    if why := access.refusal(actor, task, transition):
        raise PermissionDenied(why)
    if transition.needs_reason and not (reason and reason.strip()):
        raise InvalidInput(f"{action.value} needs a reason.", errors=[{"field": "reason", "message": "required"}])
    before = history.task_snapshot(task)
    changed = ["state"]
    if action is TaskAction.assign:
        if assignee_id is None:
            raise InvalidInput("assign needs assignee_id.", errors=[{"field": "assignee_id", "message": "required"}])
        _assign(db, actor=actor, now=now, task=task, assignee_id=assignee_id)
        changed.append("assignee_id")
    elif action is TaskAction.accept:
        task.accepted_at = now
    elif action is TaskAction.start:
        task.started_at = task.started_at or now
    elif action is TaskAction.submit:
        _self_check(task)
        task.submitted_at, task.submitted_by_id = now, actor.user_id
    elif action in (TaskAction.approve, TaskAction.send_back):
        task.reviewed_at, task.reviewed_by_id, task.review_note = now, actor.user_id, reason
        changed.append("review_note")
    elif action is TaskAction.close:
        task.closed_at = now
    task.state = transition.target.value
    touch(task, changed)
    db.flush()
    history.record_task(db, actor=actor, task=task, action=ASSIGNED if action is TaskAction.assign else action.value,
                        before=before, reason=reason,
                        payload={"reason": reason} if reason else None)
    return task


def _self_check(task: FieldTask) -> None:
    """Submitting is the inspector's self-check: every required item answered."""
    if task.checklist_version is None:
        return
    if missing := missing_required(task.checklist_version.items, task.answers):
        raise InvalidInput(f"Answer the required checklist items before submitting: {', '.join(missing)}.",
                           errors=[{"field": f"answers.{key}", "message": "required"} for key in missing])


def update_task(*, db: Session, actor: Actor, now: datetime, task_id: int, changes: Mapping[str, Any],
                base_version: int, require_current: bool = False) -> MergeOutcome:
    """Apply an edit made against `base_version`: fields the server changed since then to another
    value come back as conflicts (server value, device value) and are not applied; the rest apply.
    With `require_current` (the API's If-Match) a stale base is refused (412) instead of merged."""
    task = get_task(db=db, actor=actor, task_id=task_id, for_update=True)
    _check_current(task, base_version, require_current)
    if unknown := sorted(set(changes) - set(access.PLANNER_FIELDS)):
        raise InvalidInput(f"{', '.join(unknown)}: not an editable task field (editable: "
                           f"{', '.join(access.PLANNER_FIELDS)}).",
                           errors=[{"field": name, "message": "not editable"} for name in unknown])
    allowed = access.editable_fields(actor, task)
    if refused := sorted(set(changes) - allowed):
        raise PermissionDenied(f"You may not change {', '.join(refused)} of this task now"
                               f"{' (you may change: ' + ', '.join(sorted(allowed)) + ')' if allowed else ''}.")
    values = task_fields.edited(changes)
    applied, conflicts = merge(task, base_version=base_version, changes=values,
                               current={f: getattr(task, f) for f in values})
    task_fields.check_window(applied.get("due_from", task.due_from), applied.get("due_until", task.due_until))
    if "due_until" in applied and task.assignee_id is not None:
        # A later due day must still be covered by the assignee's certificates.
        qualifications.check_assignee(user=_assignee(db, task.assignee_id), requirements=task.required_qualifications,
                                      due_until=applied["due_until"])
    if applied:
        before = history.task_snapshot(task)
        for name, value in applied.items():
            setattr(task, name, value)
        touch(task, applied)
        db.flush()
        history.record_task(db, actor=actor, task=task, action="updated", before=before,
                            payload={"fields": sorted(applied), "conflicts": sorted(conflicts)})
    return MergeOutcome(applied=applied, conflicts=conflicts, version=task.version)


def save_answers(*, db: Session, actor: Actor, now: datetime, task_id: int, answers: Mapping[str, Any],
                 base_version: int, device_time: datetime | None = None,
                 require_current: bool = False) -> MergeOutcome:
    """Record checklist answers (field `answers.<key>` each), validated against the task's checklist
    version and merged like `update_task`. Only the assignee, while the work is in their hands."""
    task = get_task(db=db, actor=actor, task_id=task_id, for_update=True)
    _check_current(task, base_version, require_current)
    if not access.is_assignee(actor, task):
        raise PermissionDenied("Only the task's assignee records its answers; a reviewer sends the task back.")
    if TaskState(task.state) not in access.WORKING_STATES:
        raise Conflict(f"Answers are recorded while a task is accepted, in progress or sent back; this one is "
                       f"{task.state}.")
    if task.checklist_version is None:
        raise InvalidInput("This task has no checklist.", errors=[{"field": "answers", "message": "no checklist"}])
    checked = validate_answers(task.checklist_version.items, answers)
    current = {f"answers.{k}": (task.answers.get(k) or {}).get("value") for k in checked}
    applied, conflicts = merge(task, base_version=base_version, current=current,
                               changes={f"answers.{k}": v for k, v in checked.items()})
    if applied:
        before = history.task_snapshot(task)
        stamp = {"by": actor.username, "at": now.isoformat(), "device_time": device_time.isoformat()
                 if device_time else None}
        task.answers = {**task.answers, **{f.removeprefix("answers."): {"value": v, **stamp}
                                           for f, v in applied.items()}}
        touch(task, applied)
        db.flush()
        history.record_task(db, actor=actor, task=task, action="answered", before=before,
                            payload={"fields": sorted(applied), "conflicts": sorted(conflicts)})
    return MergeOutcome(applied=applied, conflicts=conflicts, version=task.version)


def report_finding(*, db: Session, actor: Actor, now: datetime, task_id: int, spec: FindingSpec, finding_uuid: UUID,
                   device_time: datetime | None = None) -> tuple[Finding, bool]:
    """Record a defect found on the assignee's task; `(finding, created)`. The same uuid again
    returns the first finding (created False; the caller compares content). A finding that needs
    follow-up (`findings.needs_follow_up`: a critical one, a tree breaking a clearance the rule set
    calls a conflict, else the reporter's or the category's call) gets a task (the category's type,
    due within the severity's handling time)."""
    db.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(f"finding:{finding_uuid}", 0))))
    if (existing := db.scalar(select(Finding).where(Finding.uuid == finding_uuid))) is not None:
        return existing, False
    task = get_task(db=db, actor=actor, task_id=task_id, for_update=True)
    if not access.is_assignee(actor, task):
        raise PermissionDenied("Only the task's assignee reports findings on it.")
    if TaskState(task.state) not in access.WORKING_STATES:
        raise Conflict(f"Findings are reported while a task is accepted, in progress or sent back; this one is "
                       f"{task.state}.")
    finding = findings.new_finding(db=db, actor=actor, now=now, task=task, spec=spec, finding_uuid=finding_uuid,
                                   device_time=device_time)
    if findings.needs_follow_up(spec, clearance_check=finding.clearance_check):
        severity = finding_rules().severities[spec.severity]
        category = finding_rules().categories[spec.category]
        follow_up = create_task(db=db, actor=actor, now=now, spec=TaskSpec(
            task_type=category.follow_up_task_type, title=f"Follow-up: {category.name}", due_from=now,
            due_until=now + timedelta(hours=severity.handling_hours), location_wkt=to_shape(finding.geom).wkt,
            asset_type=finding.asset_type, asset_id=finding.asset_id, priority=severity.priority,
            voltage_kv=task.voltage_kv, notes=finding.description, parent_task_id=task.id,
            origin={"kind": "finding", "id": finding.id}))
        finding.follow_up_task_id = follow_up.id
        db.flush()
    history.record_finding(db, actor=actor, finding=finding)
    return finding, True
