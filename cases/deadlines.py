"""Stage deadlines in working days: the workflow's time limits on the utility's holiday calendar.

The calendar in force is the one administrators maintain in the database (`working_calendars`,
seeded from cases/data/calendars/*.json). Parsed calendars are cached per fingerprint, so a
deadline costs one primary-key look-up and an edited calendar is used at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.calendar import CalendarError, Remaining, WorkingCalendar, parse_calendar
from cases.models import Case, WorkingCalendarRecord
from cases.policy import case_policy
from cases.workflow import TERMINAL, State
from core.audit import service as audit_service
from core.context import Actor
from core.errors import InvalidInput, NotFound, StaleVersion
from core.fingerprint import json_fingerprint

# Entering these states does not restart the clock: assigning the surveyor is part of the survey
# stage, assigning the re-inspector part of the re-inspection stage.
CLOCK_CONTINUES = frozenset({State.survey_assigned, State.reinspection_assigned})

_parsed: dict[str, WorkingCalendar] = {}


def calendar_record(*, db: Session, code: str) -> WorkingCalendarRecord:
    record = db.get(WorkingCalendarRecord, code.upper())
    if record is None:
        raise NotFound(f"No working calendar {code!r} is loaded.")
    return record


def working_calendar(db: Session, code: str | None = None) -> WorkingCalendar:
    """The calendar in force for `code` (the workflow's calendar by default)."""
    code = (code or case_policy().calendar_code).upper()
    digest = db.scalar(select(WorkingCalendarRecord.sha256).where(WorkingCalendarRecord.code == code))
    if digest is None:
        raise NotFound(f"No working calendar {code!r} is loaded.")
    if digest not in _parsed:
        _parsed[digest] = parse_calendar(calendar_record(db=db, code=code).document, source=f"calendar {code}")
    return _parsed[digest]


def _stage_deadline(calendar: WorkingCalendar, case: Case, state: State, start: datetime,
                    rectification_days: int | None) -> datetime | None:
    days = case_policy().stage_limit_days(state=state, voltage_kv=case.voltage_kv, department=case.department,
                                             rectification_days=rectification_days)
    return None if days is None else calendar.add_working_days(start, days)


def enter_stage(db: Session, case: Case, state: State, *, now: datetime,
                rectification_days: int | None = None) -> None:
    """Move `case` into `state` and set the deadline of the stage it starts."""
    case.state = state.value
    if state in CLOCK_CONTINUES:
        return
    case.stage_started_at = now
    case.stage_limit_days = rectification_days
    case.deadline_at = _stage_deadline(working_calendar(db), case, state, now, rectification_days)
    case.overdue_flagged_at = None


def remaining(calendar: WorkingCalendar, case: Case, *, now: datetime) -> Remaining | None:
    """Time left in the case's current stage (None in a final state), on `calendar`."""
    if case.deadline_at is None:
        return None
    return calendar.remaining(now=now, deadline=case.deadline_at)


@dataclass(frozen=True)
class CalendarShown:
    """A working calendar as the API shows it: its version (the ETag) and its body."""

    version: int
    body: dict[str, Any]


def _shown(db: Session, record: WorkingCalendarRecord, moved: int | None = None) -> CalendarShown:
    calendar = working_calendar(db, record.code)
    body: dict[str, Any] = {
        "code": record.code, "version": record.version, "sha256": record.sha256,
        "updated_at": record.updated_at.isoformat() if record.updated_at else None, "updated_by": record.updated_by,
        "covered_years": sorted(calendar.covered_years), "unverified_years": sorted(calendar.unverified_years),
        "document": record.document}
    if moved is not None:
        body["deadlines_moved"] = moved
    return CalendarShown(version=record.version, body=body)


def show_calendar(*, db: Session, code: str) -> CalendarShown:
    """The calendar `code`: its document and which years it covers (and which are unverified)."""
    return _shown(db, calendar_record(db=db, code=code))


def replace_calendar(*, db: Session, actor: Actor, code: str, document: dict[str, Any],
                     expected_version: int) -> CalendarShown:
    """An administrator replaces the calendar (e.g. adds next year's State Council notice).
    The document is validated whole; open cases' deadlines are recomputed on the new calendar,
    because a stage's legal limit counts the days as they really are. The answer says how many
    deadlines moved (`deadlines_moved`)."""
    record = db.scalars(select(WorkingCalendarRecord).where(WorkingCalendarRecord.code == code.upper())
                        .with_for_update()).one_or_none()
    if record is None:
        raise NotFound(f"No working calendar {code!r} is loaded.")
    if record.version != expected_version:
        raise StaleVersion(f"Calendar {record.code} was changed meanwhile (now version {record.version}).",
                           current_version=record.version)
    try:
        calendar = parse_calendar(document, source=f"calendar {record.code}")
    except CalendarError as exc:
        raise InvalidInput(str(exc), errors=[{"field": "document", "message": str(exc)}]) from exc
    if calendar.code.upper() != record.code:
        raise InvalidInput(f"The document is calendar {calendar.code}, not {record.code}.",
                           errors=[{"field": "code", "message": "does not match the URL"}])
    before = {"version": record.version, "sha256": record.sha256, "document": record.document}
    record.document, record.sha256 = document, json_fingerprint(document)
    record.version += 1
    record.updated_by = actor.username
    db.flush()
    moved = _recompute_open_deadlines(db)
    audit_service.record(db=db, actor=actor, action="calendar.replace", entity_type="working_calendar",
                         entity_id=record.code, before=before,
                         after={"version": record.version, "sha256": record.sha256, "document": document,
                                "deadlines_moved": moved})
    return _shown(db, record, moved)


def _recompute_open_deadlines(db: Session) -> int:
    calendar = working_calendar(db)
    moved = 0
    open_cases = select(Case).where(Case.deadline_at.is_not(None), Case.state.not_in([s.value for s in TERMINAL]))
    for case in db.scalars(open_cases):
        # A stage's limit is the same in the states that continue its clock (see stage_limit_days).
        deadline = _stage_deadline(calendar, case, State(case.state), case.stage_started_at, case.stage_limit_days)
        if deadline != case.deadline_at:
            case.deadline_at = deadline
            moved += 1
    return moved
