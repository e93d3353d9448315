"""Cases as the API offers them: one function per operation (register a request, report an
encroachment, list, read one, act, hand over, read a decision document), each doing the whole
operation and returning what the caller sends back: the case's page as the caller may see it
(`cases.presentation`), read after the change, at the moment `now` the caller passes in.

Keyword-only functions, no HTTP; the caller's unit of work owns the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from cases import registration, service
from cases.policy import case_policy
from cases.presentation import case_out_of, case_outs
from cases.schemas import ActionIn, CaseIn, CaseOut, EncroachmentIn
from cases.workflow import Action, CaseKind, State
from core.context import Actor
from core.errors import InvalidInput
from core.fingerprint import Submitted
from core.settings import Settings
from core.storage import ObjectStorage


def register_request(*, db: Session, actor: Actor, settings: Settings, case_in: CaseIn, epsg: int, now: datetime,
                     idempotency_key: str | None = None) -> Submitted[CaseOut]:
    """Register a connection request or construction permit and screen it at once; a replayed
    Idempotency-Key answers with the first case (`created` False)."""
    prepared = registration.prepare_case(db=db, case_in=case_in, epsg=epsg, settings=settings)
    return _register(db=db, actor=actor, settings=settings, prepared=prepared, now=now,
                     idempotency_key=idempotency_key)


def report_encroachment(*, db: Session, actor: Actor, settings: Settings, report: EncroachmentIn, epsg: int,
                        now: datetime, idempotency_key: str | None = None) -> Submitted[CaseOut]:
    """Turn a patrol's report of construction in a protection zone into a screened case."""
    prepared = registration.prepare_encroachment(db=db, report=report, epsg=epsg, settings=settings)
    return _register(db=db, actor=actor, settings=settings, prepared=prepared, now=now,
                     idempotency_key=idempotency_key)


def _register(*, db: Session, actor: Actor, settings: Settings, prepared: registration.Registration,
              now: datetime, idempotency_key: str | None) -> Submitted[CaseOut]:
    case, created = service.register(db=db, actor=actor, registration=prepared, settings=settings, now=now,
                                     idempotency_key=idempotency_key)
    return Submitted(case_out_of(db=db, actor=actor, case=case, now=now), created=created)


@dataclass(frozen=True)
class CaseQuery:
    """Which cases a list shows."""

    state: State | None = None
    kind: CaseKind | None = None
    owner_id: int | None = None
    overdue: bool = False  # only open cases past their deadline at the time of the request
    department: str | None = None  # a department's code in the case policy


def list_cases(*, db: Session, actor: Actor, query: CaseQuery, after_id: int | None, limit: int,
               now: datetime) -> list[CaseOut]:
    """One page of cases in id order (the `limit` cases after id `after_id`), as `actor` may see
    them at `now`. A department the case policy does not name is refused, not an empty page: a
    dispatcher's typo must not look like a quiet queue."""
    departments = case_policy().departments
    if query.department is not None and query.department not in departments:
        raise InvalidInput(f"Unknown department {query.department!r}; the case policy names: "
                           + ", ".join(sorted(departments)) + ".",
                           errors=[{"field": "department", "message": "not a department of the case policy"}])
    found = service.list_cases(db=db, query=service.CaseFilter(
        state=query.state.value if query.state else None, kind=query.kind.value if query.kind else None,
        owner_id=query.owner_id, overdue_at=now if query.overdue else None, department=query.department,
        after_id=after_id, limit=limit))
    return case_outs(db=db, actor=actor, cases=found, now=now)


def get_case(*, db: Session, actor: Actor, case_id: int, now: datetime) -> CaseOut:
    """One case with its deadline, history and documents."""
    return case_out_of(db=db, actor=actor, case=service.get_case(db=db, case_id=case_id), now=now)


def act(*, db: Session, actor: Actor, storage: ObjectStorage, settings: Settings, case_id: int,
        expected_version: int, action: Action, body: ActionIn, now: datetime) -> CaseOut:
    """Move the case on by `action` (see `cases.service.act`) and show it as it now is."""
    case = service.act(db=db, actor=actor, storage=storage, settings=settings, case_id=case_id,
                       expected_version=expected_version, action=action, body=body, now=now)
    return case_out_of(db=db, actor=actor, case=case, now=now)


def hand_over(*, db: Session, actor: Actor, case_id: int, expected_version: int, to_user_id: int, reason: str,
              now: datetime) -> CaseOut:
    """Hand the case to the next accountable person (see `cases.service.hand_over`) and show it."""
    case = service.hand_over(db=db, actor=actor, case_id=case_id, expected_version=expected_version,
                             to_user_id=to_user_id, reason=reason)
    return case_out_of(db=db, actor=actor, case=case, now=now)


def document(*, db: Session, storage: ObjectStorage, case_id: int, document_id: int) -> tuple[str, bytes]:
    """A decision document of the case: its serial number and its PDF."""
    return service.document_pdf(db=db, storage=storage, case_id=case_id, document_id=document_id)
