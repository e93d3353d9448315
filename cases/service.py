"""Cases from registration to decision: screening on submission, the state machine, first
responsibility, separation of duties, deadlines and decision documents. Keyword-only functions,
no HTTP; the caller's unit of work owns the transaction.

A submission is checked in `cases.registration` before it gets here; what a case's page shows is
put together in `cases.presentation`; the API calls `cases.use_cases`, one function per operation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from geoalchemy2.shape import from_shape, to_shape
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from cases import deadlines, issuing, visits
from cases.models import Case, CaseEvent
from cases.permissions import CASES_ASSIGN, CASES_DECIDE, CASES_REGISTER, CASES_REPORT_ENCROACHMENT, CASES_SURVEY
from cases.policy import case_policy
from cases.registration import SITE_EPSG, Registration
from cases.schemas import ActionIn
from cases.visit_schemas import decision_json, survey_json
from cases.workflow import TERMINAL, Action, CaseKind, State, open_actions, transition_for
from core import outbox
from core.audit import service as audit_service
from core.context import Actor
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied, StaleVersion
from core.fingerprint import IDEMPOTENCY_KEY_REUSED
from core.permissions import Role, has_permission
from core.settings import Settings
from core.storage import ObjectStorage
from core.users.models import User
from gis.rule_sets import service as rule_set_service
from gis.screening import service as screening_service
from gis.screening.models import Screening
from gis.screening.settings import screening_settings

ENTITY = "case"
NUMBER_SERIES = {CaseKind.connection: "YK", CaseKind.construction: "SG", CaseKind.encroachment: "WZ"}
DOCUMENT_KIND = {Action.approve_with_clauses: "approval_with_clauses", Action.issue_hazard_notice: "hazard_notice",
                 Action.refuse: "refusal"}
VERDICT_RANK = {"clear": 0, "conditional": 1, "conflict": 2}
# Who may be a case's accountable owner: someone whose role moves cases on. Reading is not enough:
# auditors read every case but change nothing, so they check the owner's work and are never it.
CASE_WORK = frozenset({CASES_REGISTER, CASES_ASSIGN, CASES_SURVEY,
                       CASES_DECIDE, CASES_REPORT_ENCROACHMENT})


def _snapshot(case: Case) -> dict[str, Any]:
    """What the audit log keeps of a case: its workflow fields (personal data stays in the row)."""
    return {"number": case.number, "state": case.state, "version": case.version, "owner_id": case.owner_id,
            "assignee_id": case.assignee_id, "department": case.department, "verdict": case.verdict,
            "deadline_at": case.deadline_at.isoformat() if case.deadline_at else None,
            "escalation_level": case.escalation_level, "decision": decision_json(case.decisions),
            "survey": survey_json(case.visits)}


def _record(db: Session, *, actor: Actor, case: Case, action: str, from_state: str | None,
            before: dict[str, Any] | None, details: dict[str, Any] | None = None, reason: str | None = None) -> None:
    """One action = one case event + one audit record + one outbox event, in the same transaction."""
    db.add(CaseEvent(case_id=case.id, actor_id=actor.user_id, actor_name=actor.username, action=action,
                     from_state=from_state, to_state=case.state, details=details or {}))
    audit_service.record(db=db, actor=actor, action=f"case.{action}", entity_type=ENTITY, entity_id=case.id,
                         before=before, after=_snapshot(case), reason=reason)
    # The case's place goes with the event (consoles limited to an area); no applicant data does.
    outbox.emit(db=db, event_type=f"case.{action}", entity_type=ENTITY, entity_id=case.id,
                payload={"state": case.state, "owner_id": case.owner_id, "department": case.department,
                         "kind": case.kind, "number": case.number, "verdict": case.verdict,
                         "escalation_level": case.escalation_level},
                location_wkt=to_shape(case.location).wkt)


def _next_number(db: Session, kind: CaseKind, now: datetime) -> str:
    """Case numbers count by the utility's local year, like its documents: a request received on
    1 January at 01:00 Beijing time (still 31 December in UTC) belongs to the new year."""
    local_year = now.astimezone(deadlines.working_calendar(db).timezone).year
    return issuing.next_serial(db, NUMBER_SERIES[kind], local_year)


def register(*, db: Session, actor: Actor, registration: Registration, settings: Settings, now: datetime,
             idempotency_key: str | None = None) -> tuple[Case, bool]:
    """Store a new case owned by whoever registered it (first contact), screen it at once and put
    it in `screened` with the survey deadline running. Returns (case, created); a repeated
    Idempotency-Key from the same user with the same request returns the first case instead of a
    duplicate, and with a different request is refused (422, IETF Idempotency-Key draft). Keys are
    per user: another user's identical key is another submission. Cases registered before
    fingerprints were kept have none and replay as before (migration d97ab0be01a9)."""
    if idempotency_key:
        # A double tap or a retry on a slow network sends the same key twice at once: the second
        # waits here until the first commits, then finds its case instead of failing on the index.
        lock_key = func.hashtextextended(f"case-registration:{actor.user_id}:{idempotency_key}", 0)
        db.execute(select(func.pg_advisory_xact_lock(lock_key)))
        existing = db.scalar(select(Case).where(Case.created_by_id == actor.user_id,
                                                Case.idempotency_key == idempotency_key))
        if existing is not None:
            if existing.idempotency_fingerprint not in (None, registration.fingerprint):
                raise InvalidInput("This Idempotency-Key was already used for a different submission; send a new "
                                   "key for a new request (nothing was registered).",
                                   errors=[IDEMPOTENCY_KEY_REUSED])
            return existing, False
    policy = case_policy()
    fields = registration.fields
    department = policy.department_for(kind=registration.kind, voltage_kv=fields["voltage_kv"],
                                      load_kw=fields.get("requested_load_kw"),
                                      capacity_kva=fields.get("requested_capacity_kva"),
                                      power_factor=screening_settings(settings).power_factor)
    case = Case(number=_next_number(db, registration.kind, now), kind=registration.kind.value,
                request_type=registration.request_type, state=State.submitted.value, version=1,
                department=department, owner_id=actor.user_id, created_by_id=actor.user_id,
                idempotency_key=idempotency_key,
                idempotency_fingerprint=registration.fingerprint if idempotency_key else None, stage_started_at=now,
                location=from_shape(registration.location, srid=4326),
                footprint=from_shape(registration.footprint, srid=4326) if registration.footprint else None,
                **fields)
    db.add(case)
    try:
        db.flush()
    except IntegrityError as exc:
        raise Conflict("This submission was already received (same Idempotency-Key); nothing new was stored.") from exc
    _record(db, actor=actor, case=case, action="submit", from_state=None, before=None,
            details={"department": department})
    _screen(db=db, actor=actor, case=case, registration=registration, settings=settings, now=now)
    return case, True


def _screen(*, db: Session, actor: Actor, case: Case, registration: Registration, settings: Settings,
            now: datetime) -> None:
    rule_set = registration.screening.rule_set  # the one the site was validated against
    rows = screening_service.run(db=db, actor=actor, items=registration.screening.items, rule_set=rule_set,
                                 epsg=SITE_EPSG, limits=screening_settings(settings), subject=(ENTITY, case.id))
    before = _snapshot(case)
    case.screening_ids = [row.id for row in rows]
    case.verdict = max((row.verdict for row in rows), key=VERDICT_RANK.__getitem__)
    if case.kind == CaseKind.encroachment:
        # The reporter does not know the line's voltage; the screening does, and it sets the stage
        # limits (an encroachment under a 10 kV line is not a low-voltage case).
        voltages = [f["asset"]["nominal_kv"] for row in rows for f in row.findings if f["asset"].get("nominal_kv")]
        case.voltage_kv = max(voltages, default=case.voltage_kv)
    deadlines.enter_stage(db, case, State.screened, now=now)
    _record(db, actor=actor, case=case, action=Action.screen.value, from_state=State.submitted.value, before=before,
            details={"verdict": case.verdict, "screening_ids": case.screening_ids, "rule_set": rule_set.label})


def get_case(*, db: Session, case_id: int, for_update: bool = False) -> Case:
    stmt = select(Case).where(Case.id == case_id).execution_options(populate_existing=True)
    if for_update:
        stmt = stmt.with_for_update()
    case = db.scalar(stmt)
    if case is None:
        raise NotFound(f"No case with id {case_id}.")
    return case


def _check_version(case: Case, expected_version: int) -> None:
    if case.version != expected_version:
        raise StaleVersion(f"Case {case.number} was changed meanwhile (now version {case.version}, you sent "
                           f"{expected_version}). Reload it and decide again.", current_version=case.version)


def _user(db: Session, user_id: int, field: str) -> User:
    user = db.get(User, user_id)
    if user is None or not user.is_active:
        raise InvalidInput(f"No active user with id {user_id}.", errors=[{"field": field, "message": "unknown user"}])
    return user


def _require(value: object, field: str, action: Action) -> None:
    if value is None or value == "" or value == []:
        raise InvalidInput(f"{action.value} needs {field}.", errors=[{"field": field, "message": "required"}])


def act(*, db: Session, actor: Actor, storage: ObjectStorage, settings: Settings, case_id: int,
        expected_version: int, action: Action, body: ActionIn, now: datetime) -> Case:
    """Apply one workflow action if the case's state, the actor's role and the rules allow it."""
    case = get_case(db=db, case_id=case_id, for_update=True)
    _check_version(case, expected_version)
    return _act(db=db, actor=actor, storage=storage, case=case, action=action, body=body, now=now)


def record_visit(*, db: Session, actor: Actor, case_id: int, action: Action, body: ActionIn, now: datetime) -> Case:
    """Record the pending survey or re-inspection (`record_survey` / `record_reinspection`) on the
    case as it is now, under every rule `act` applies (only the visit's assignee, findings required,
    deadlines, audit, outbox). How a field task's submission records its site visit
    (`inspections.case_visits`): the device has no case version to send. Recording a visit issues
    no document, so no storage is needed."""
    if action not in visits.RECORDS:
        raise ValueError(f"{action.value} does not record a site visit")
    case = get_case(db=db, case_id=case_id, for_update=True)
    return _act(db=db, actor=actor, storage=None, case=case, action=action, body=body, now=now)


def _act(*, db: Session, actor: Actor, storage: ObjectStorage | None, case: Case, action: Action, body: ActionIn,
         now: datetime) -> Case:
    kind, state = CaseKind(case.kind), State(case.state)
    transition = transition_for(kind, state, action)
    if transition is None or transition.permission is None:
        allowed = [a.value for a in open_actions(kind, state)]
        raise Conflict(f"{action.value} is not possible for a {kind.value} case in state {state.value}; allowed "
                       f"now: {', '.join(allowed) or 'none (the case is closed)'}.", allowed_actions=allowed)
    if not has_permission(actor.role, transition.permission):
        raise PermissionDenied(f"Role {actor.role} may not {action.value} (needs {transition.permission}).")
    before = _snapshot(case)
    details: dict[str, Any] = {}
    rectification_days = None
    if action in (Action.assign_survey, Action.assign_reinspection):
        _require(body.assignee_id, "assignee_id", action)
        assignee = _user(db, body.assignee_id, "assignee_id")  # type: ignore[arg-type]
        if not has_permission(Role(assignee.role), CASES_SURVEY):
            raise InvalidInput(f"{assignee.username} cannot survey sites (role {assignee.role}).",
                               errors=[{"field": "assignee_id", "message": "not a surveyor"}])
        case.assignee_id = assignee.id
        visits.assign(case=case, kind=visits.ASSIGNS[action], assignee_id=assignee.id, actor=actor, now=now)
        details["assignee"] = assignee.username
    elif action in (Action.record_survey, Action.record_reinspection):
        if case.assignee_id != actor.user_id:
            raise PermissionDenied("Only the person assigned to this site visit may record it.")
        _require(body.findings, "findings", action)
        if action == Action.record_survey:
            _require(body.hazard_found, "hazard_found", action)
            case.surveyed_by_id = actor.user_id
        else:
            _require(body.passed, "passed", action)
            case.reinspected_by_id = actor.user_id
        visits.record(case=case, kind=visits.RECORDS[action], actor=actor, findings=body.findings or "",
                      hazard_found=body.hazard_found, passed=body.passed, measures=body.measures, now=now)
        details = {"findings": body.findings, "hazard_found": body.hazard_found, "passed": body.passed}
    elif action == Action.report_rectification:
        _require(body.note, "note", action)
        details["note"] = body.note
    if transition.decision:
        details.update(_decide(db=db, actor=actor, storage=storage, case=case, action=action, body=body, now=now))
        rectification_days = body.rectification_days
    case.version += 1
    deadlines.enter_stage(db, case, transition.target, now=now, rectification_days=rectification_days)
    if case.state in TERMINAL:
        case.assignee_id = None
    _record(db, actor=actor, case=case, action=action.value, from_state=state.value, before=before, details=details,
            reason=body.note)
    db.flush()
    return case


def _decide(*, db: Session, actor: Actor, storage: ObjectStorage | None, case: Case, action: Action, body: ActionIn,
            now: datetime) -> dict[str, Any]:
    """Separation of duties, the decision's preconditions, and its document."""
    if storage is None:
        raise ValueError(f"{action.value} is a decision: it needs the document storage")
    if actor.user_id is not None and actor.user_id in (case.surveyed_by_id, case.reinspected_by_id):
        raise PermissionDenied("You recorded the site survey or re-inspection of this case; another officer must "
                               "decide it (separation of duties).")
    site = visits.site_findings(case.visits)
    remedied = site.remedied
    if action in (Action.approve, Action.approve_with_clauses, Action.resolve):
        if site.reinspection is not None and not remedied:
            raise Conflict("The re-inspection found the rectification inadequate: issue a new hazard notice or "
                           "refuse.", allowed_actions=[Action.issue_hazard_notice.value, Action.refuse.value])
        if site.reinspection is None and site.hazard_found:
            raise Conflict("The site survey found a hazard: issue a hazard notice or refuse.",
                           allowed_actions=[Action.issue_hazard_notice.value, Action.refuse.value])
        # The conflict check comes first: a plain approval of a conflict must not be pointed at
        # approve_with_clauses, which the conflict forbids just the same.
        if action != Action.resolve and case.verdict == "conflict" and not remedied:
            raise Conflict("The screening found a conflict (an activity the rules forbid): issue a hazard notice "
                           "or refuse.", allowed_actions=[Action.issue_hazard_notice.value, Action.refuse.value])
        # A site in a zone stays in it after a hazard is remedied: its approval still carries the
        # protection clauses (DOMAIN.md §4, decision 1), so a plain approval needs a clear verdict.
        if action == Action.approve and case.verdict != "clear":
            raise Conflict(f"The screening verdict is {case.verdict}: approve with protection clauses instead.",
                           allowed_actions=[Action.approve_with_clauses.value])
    if action in (Action.issue_hazard_notice, Action.refuse):
        _require(body.measures, "measures", action)
    reported_to = None
    if action == Action.refuse:
        reported_to = case_policy().escalation["refusal_reported_to"][body.language or case.language]
    kind = DOCUMENT_KIND.get(action)
    document = None if kind is None else _issue(db=db, actor=actor, storage=storage, case=case, kind=kind,
                                                language=body.language or case.language, measures=body.measures,
                                                now=now)
    visits.record_decision(case=case, action=action, actor=actor, measures=body.measures, note=body.note,
                           reported_to=reported_to, document=document, now=now)
    return {"decision": decision_json(case.decisions)}


def _issue(*, db: Session, actor: Actor, storage: ObjectStorage, case: Case, kind: str, language: str,
           measures: list[str], now: datetime) -> issuing.DecisionDocumentRecord:
    signer = db.get(User, actor.user_id) if actor.user_id is not None else None
    if signer is None:
        raise PermissionDenied("Decisions are signed by a named person; system actors cannot decide.")
    screenings = list(db.scalars(select(Screening).where(Screening.id.in_(case.screening_ids))))
    findings = [f for s in screenings for f in s.findings]
    rule_sets = {rule_set_service.get_rule_set_by_id(db=db, rule_set_id=s.rule_set_id).label for s in screenings}
    site = to_shape(case.footprint if case.footprint is not None else case.location)
    zone = deadlines.working_calendar(db).timezone
    local_day = now.astimezone(zone).date()
    department = case_policy().departments[case.department][language]
    return issuing.issue_document(db=db, storage=storage, case=case, kind=kind, language=language, site=site,
                                  findings=findings, measures=measures, rule_set_label=", ".join(sorted(rule_sets)),
                                  signer=signer, signed_on=local_day, zone=zone,
                                  issuer=f"{case_policy().organisation[language]} · {department}")


def hand_over(*, db: Session, actor: Actor, case_id: int, expected_version: int, to_user_id: int, reason: str) -> Case:
    """First responsibility: the owner (or someone who assigns work) names the next accountable
    person explicitly; the case is never without an owner."""
    case = get_case(db=db, case_id=case_id, for_update=True)
    _check_version(case, expected_version)
    if case.owner_id != actor.user_id and not has_permission(actor.role, CASES_ASSIGN):
        raise PermissionDenied("Only the case's owner, or someone who assigns work, may hand it over.")
    if State(case.state) in TERMINAL:
        raise Conflict(f"Case {case.number} is closed ({case.state}); there is nothing to hand over.",
                       allowed_actions=[])
    target = _user(db, to_user_id, "to_user_id")
    if not any(has_permission(Role(target.role), permission) for permission in CASE_WORK):
        raise InvalidInput(f"{target.username} cannot own cases (role {target.role} does no case work).",
                           errors=[{"field": "to_user_id", "message": "cannot own cases"}])
    if target.id == case.owner_id:
        raise InvalidInput(f"{target.username} already owns this case.",
                           errors=[{"field": "to_user_id", "message": "already the owner"}])
    before = _snapshot(case)
    previous = case.owner_id
    case.owner_id = target.id
    case.version += 1
    _record(db, actor=actor, case=case, action="hand_over", from_state=case.state, before=before,
            details={"from_user_id": previous, "to_user_id": target.id, "reason": reason}, reason=reason)
    db.flush()
    return case


@dataclass(frozen=True)
class CaseFilter:
    state: str | None = None
    kind: str | None = None
    owner_id: int | None = None
    overdue_at: datetime | None = None  # only cases whose deadline passed before this moment
    department: str | None = None
    after_id: int | None = None
    limit: int = 100


def list_cases(*, db: Session, query: CaseFilter) -> list[Case]:
    stmt = select(Case)
    if query.state:
        stmt = stmt.where(Case.state == query.state)
    if query.kind:
        stmt = stmt.where(Case.kind == query.kind)
    if query.owner_id:
        stmt = stmt.where(Case.owner_id == query.owner_id)
    if query.overdue_at is not None:
        stmt = stmt.where(Case.deadline_at < query.overdue_at, Case.state.not_in([s.value for s in TERMINAL]))
    if query.department:
        stmt = stmt.where(Case.department == query.department)
    if query.after_id:
        stmt = stmt.where(Case.id > query.after_id)
    return list(db.scalars(stmt.order_by(Case.id).limit(query.limit)))


def flag_overdue(*, db: Session, now: datetime) -> list[int]:
    """Daily job: every open case past its deadline and not yet flagged in this stage is flagged,
    escalated one level and announced (outbox) to the owning department's head."""
    stmt = (select(Case).where(Case.deadline_at < now, Case.state.not_in([s.value for s in TERMINAL]),
                               Case.overdue_flagged_at.is_(None))
            .order_by(Case.id).with_for_update(skip_locked=True)
            .options(selectinload(Case.visits), selectinload(Case.decisions)))  # for the audit snapshots
    actor = Actor.system("overdue-check")
    flagged = []
    for case in db.scalars(stmt):
        before = _snapshot(case)
        case.overdue_flagged_at = now
        case.escalation_level += 1
        # Not a version bump: flagging changes no decision-relevant field, and an officer holding the
        # case's ETag overnight must still be able to act on it in the morning.
        reported_to = case_policy().escalation["overdue_reported_to"][case.language]
        _record(db, actor=actor, case=case, action="escalate_overdue", from_state=case.state, before=before,
                details={"deadline_at": case.deadline_at.isoformat() if case.deadline_at else None,
                         "escalation_level": case.escalation_level, "reported_to": reported_to})
        flagged.append(case.id)
    db.flush()
    return flagged


def document_pdf(*, db: Session, storage: ObjectStorage, case_id: int, document_id: int) -> tuple[str, bytes]:
    record = db.get(issuing.DecisionDocumentRecord, document_id)
    if record is None or record.case_id != case_id:
        raise NotFound(f"No document {document_id} on case {case_id}.")
    return record.serial_number, storage.get_bytes(bucket=storage.settings.evidence_bucket, key=record.object_key)

