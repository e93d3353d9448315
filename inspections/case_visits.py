"""A case's site visits as field tasks, kept in step with the case workflow through its events
(`Domain.event_handlers`, run in the transaction of the case's action; cases knows nothing of tasks):

- `case.assign_survey` / `case.assign_reinspection`: the pending visit gets its task (type, checklist
  and priority from `inspections/data/case_visits.json`) for the inspector sent, at the case's
  location, due by the case's stage deadline; sending someone else re-assigns that task (refused,
  409, once the inspector has started it: the task workflow re-assigns only work not yet begun).
- `task.submit` of such a task: its answers record the visit on the case (`cases.service.record_visit`:
  only the visit's assignee, findings required, deadlines, audit), as the submitter. A task sent back
  and submitted again does not record a second time: the case keeps the record its decision read.
- `case.record_survey` / `case.record_reinspection` made through the case API (the path from before
  field tasks): the visit's open task is marked submitted with the answers recorded on the case
  (`task.recorded_on_case`), so it goes to the supervisor's review like any other submission.

Task changes made in reaction to a case action are made by the system actor `system:case-visits`;
who acted on the case is in the case's own audit record and in the task's `origin` and reason.
"""

from __future__ import annotations

from datetime import datetime

from geoalchemy2.shape import to_shape
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from cases import service as case_service
from cases.models import Case, SiteVisit
from cases.schemas import ActionIn
from cases.visits import ASSIGNS, RECORDS, VisitKind, pending_visit
from cases.workflow import Action
from core.context import Actor
from core.errors import Conflict, InvalidInput
from core.outbox import OutboxEvent
from core.permissions import Role
from core.users.models import User
from inspections import history, service
from inspections.case_visit_rules import VisitTaskRule, rule_for_task_type, visit_task_rules
from inspections.models import FieldTask, Finding
from inspections.specs import TaskSpec
from inspections.task_fields import NOTES_MAX, TITLE_MAX
from inspections.versioning import touch
from inspections.workflow import OPEN_STATES, TaskAction, TaskState

SYSTEM = Actor.system("case-visits")
# A task can be given to someone else only before its work begins (inspections.workflow: assign).
REASSIGNABLE = frozenset({TaskState.planned, TaskState.assigned, TaskState.accepted})


def _person(db: Session, user_id: int | None) -> Actor:
    user = db.get(User, user_id) if user_id is not None else None
    if user is None:
        raise InvalidInput("The site visit names no user who made it.")
    return Actor(user_id=user.id, username=user.username, role=Role(user.role))


def _task_of(db: Session, visit_id: int) -> FieldTask | None:
    return db.scalar(select(FieldTask).where(FieldTask.site_visit_id == visit_id).with_for_update(of=FieldTask))


def on_visit_assigned(*, db: Session, event: OutboxEvent) -> None:
    """Someone is sent on a survey or re-inspection: their task, created or re-assigned."""
    case = db.get(Case, int(event.entity_id))
    kind = ASSIGNS[Action(event.event_type.removeprefix("case."))]
    visit = pending_visit(case, kind) if case is not None else None
    if case is None or visit is None or visit.assigned_to_id is None:
        return
    db.flush()  # the visit's id, for the task to point at
    rule, task = visit_task_rules()[kind], _task_of(db, visit.id)
    sent_by = db.get(User, visit.assigned_by_id) if visit.assigned_by_id else None
    why = f"case {case.number}: {event.event_type.removeprefix('case.')} by {sent_by.username if sent_by else '?'}"
    if task is None:
        _create(db, case=case, visit=visit, rule=rule, reason=why, now=visit.assigned_at or case.updated_at)
    elif task.assignee_id != visit.assigned_to_id:
        if TaskState(task.state) not in REASSIGNABLE:
            raise Conflict(f"The {rule.title.lower()} of case {case.number} is field task {task.id}, already "
                           f"{task.state} by its inspector: it cannot be given to someone else once started.",
                           allowed_actions=[])
        service.act(db=db, actor=SYSTEM, now=visit.assigned_at or case.updated_at, task_id=task.id,
                    action=TaskAction.assign, expected_version=None, assignee_id=visit.assigned_to_id, reason=why)


def _create(db: Session, *, case: Case, visit: SiteVisit, rule: VisitTaskRule, reason: str, now: datetime) -> None:
    due_until = max(case.deadline_at or now, now)
    title = f"{rule.title} {case.number}: {case.site_address}".strip().rstrip(":")[:TITLE_MAX]
    service.create_task(db=db, actor=SYSTEM, now=now, spec=TaskSpec(
        task_type=rule.task_type, title=title, due_from=now, due_until=due_until,
        location_wkt=to_shape(case.location).wkt, priority=rule.priority, voltage_kv=case.voltage_kv,
        required_qualifications=rule.required_qualifications, checklist_code=rule.checklist_code,
        notes=case.description[:NOTES_MAX], assignee_id=visit.assigned_to_id, site_visit_id=visit.id, case_id=case.id,
        origin={"kind": "case_visit", "case": case.number, "visit_id": visit.id, "why": reason}))


def _answer(task: FieldTask, key: str) -> object:
    answer = (task.answers or {}).get(key)
    return answer.get("value") if isinstance(answer, dict) else None


def on_task_submitted(*, db: Session, event: OutboxEvent) -> None:
    """A case visit's task is submitted: its answers record the visit on the case."""
    task = db.get(FieldTask, int(event.entity_id))
    if task is None or task.site_visit_id is None or (rule := rule_for_task_type(task.task_type)) is None:
        return
    visit = db.get(SiteVisit, task.site_visit_id)
    if visit is None or visit.visited_at is not None:
        return  # recorded already (through the case API, or before the task was sent back)
    measures = [f.recommended_action for f in db.scalars(select(Finding).where(Finding.task_id == task.id)
                                                        .order_by(Finding.id)) if f.recommended_action]
    try:
        body = ActionIn.model_validate({"findings": _answer(task, rule.findings_answer),
                                        rule.outcome_field: _answer(task, rule.outcome_answer),
                                        "measures": measures})
    except ValidationError as exc:
        raise InvalidInput(f"The answers of task {task.id} cannot be recorded on its case: {exc.errors()[0]['msg']}.",
                           errors=[{"field": f"answers.{rule.findings_answer}", "message": "not recordable"}]) from exc
    case_service.record_visit(db=db, actor=_person(db, task.submitted_by_id), case_id=visit.case_id,
                              action=rule.record_action, body=body, now=task.submitted_at or task.updated_at)


def on_visit_recorded(*, db: Session, event: OutboxEvent) -> None:
    """A visit recorded through the case API: its open task is submitted with what the case recorded."""
    case = db.get(Case, int(event.entity_id))
    if case is None:
        return
    kind: VisitKind = RECORDS[Action(event.event_type.removeprefix("case."))]
    rule = visit_task_rules()[kind]
    for visit in case.visits:
        task = _task_of(db, visit.id) if visit.kind == kind else None
        if task is None or visit.visited_at is None or TaskState(task.state) not in OPEN_STATES:
            continue
        outcome = visit.hazard_found if kind == VisitKind.survey else visit.passed
        stamp = {"by": visit.visited_by_name, "at": visit.visited_at.isoformat(), "device_time": None}
        before = history.task_snapshot(task)
        task.answers = {**task.answers, rule.findings_answer: {"value": visit.findings, **stamp},
                        rule.outcome_answer: {"value": outcome, **stamp}}
        task.state, task.submitted_at, task.submitted_by_id = (TaskState.submitted.value, visit.visited_at,
                                                               visit.visited_by_id)
        touch(task, ["state", f"answers.{rule.findings_answer}", f"answers.{rule.outcome_answer}"])
        db.flush()
        history.record_task(db, actor=_person(db, visit.visited_by_id), task=task, action="recorded_on_case",
                            before=before, reason=f"recorded through the case API on case {case.number}")
