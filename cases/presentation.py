"""A page of cases as the API shows it (`CaseOut`): the people on each case, its history and
documents, its department's name in the case's language, the time left in its stage, the actions a
person may take next, and its personal data in full or masked (`cases.privacy`).

One call per response (`case_outs`): the reads are a fixed handful of queries however many cases
the page holds, and the personal data the response discloses is audited in one record
(DOMAIN.md §6: who viewed whose record is logged)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases import deadlines, issuing, privacy
from cases.models import Case, CaseDecision, CaseEvent, SiteVisit
from cases.policy import case_policy
from cases.schemas import CaseOut, case_out
from cases.service import ENTITY
from cases.workflow import CaseKind, State, open_actions, role_actions
from core.audit import service as audit_service
from core.context import Actor
from core.users.models import User
from media.summaries import PhotoSummary, photos_of_cases

# Where a case's decision documents are read (the cases router); `{document_id}` is filled per document.
DOCUMENT_HREF = "/api/v1/cases/{case_id}/documents/{{document_id}}"
# Where a photo's variants are read (the evidence router); filled per photo and variant.
CONTENT_HREF = "/api/v1/evidence/{evidence_id}/content?variant={variant}"
# A case in a language its department has no name in (policy.json) shows the English one.
FALLBACK_LANGUAGE = "en"


@dataclass(frozen=True)
class CaseView:
    """A case with what its page shows: the people on it, its history, its site visits, decisions,
    documents and photos, and which of its personal fields the caller sees in full (`cases.privacy`)."""

    case: Case
    owner: User | None
    assignee: User | None
    events: list[CaseEvent]
    documents: list[issuing.DecisionDocumentRecord]
    disclosed: frozenset[str]
    visits: list[SiteVisit]
    decisions: list[CaseDecision]
    photos: list[PhotoSummary]


Row = TypeVar("Row", CaseEvent, issuing.DecisionDocumentRecord, SiteVisit, CaseDecision)


def _rows_by_case(*, db: Session, model: type[Row], case_ids: Sequence[int]) -> dict[int, list[Row]]:
    """A page of cases' rows of `model` (history, documents, visits, decisions), by case, in the
    order they were made, in one query."""
    found: dict[int, list[Row]] = {case_id: [] for case_id in case_ids}
    if case_ids:
        for row in db.scalars(select(model).where(model.case_id.in_(case_ids)).order_by(model.id)):
            found[row.case_id].append(row)
    return found


def case_views(*, db: Session, actor: Actor, cases: list[Case]) -> list[CaseView]:
    """Views of `cases` as `actor` may see them, in their order, read with six queries however
    many cases a page holds. Call once per response: the personal data it discloses is logged
    in one audit record."""
    ids = [case.id for case in cases]
    user_ids = {u for case in cases for u in (case.owner_id, case.assignee_id) if u is not None}
    users = {user.id: user for user in db.scalars(select(User).where(User.id.in_(user_ids)))} if user_ids else {}
    history = _rows_by_case(db=db, model=CaseEvent, case_ids=ids)
    papers = _rows_by_case(db=db, model=issuing.DecisionDocumentRecord, case_ids=ids)
    site_visits = _rows_by_case(db=db, model=SiteVisit, case_ids=ids)
    decisions = _rows_by_case(db=db, model=CaseDecision, case_ids=ids)
    photos = photos_of_cases(db=db, case_ids=ids)
    views = [CaseView(case=case, owner=users.get(case.owner_id),
                      assignee=users.get(case.assignee_id) if case.assignee_id else None,
                      events=history[case.id], documents=papers[case.id],
                      disclosed=privacy.disclosed_fields(actor=actor, case=case, events=history[case.id]),
                      visits=site_visits[case.id], decisions=decisions[case.id], photos=photos[case.id])
             for case in cases]
    _record_disclosure(db=db, actor=actor, views=views)
    return views


def _record_disclosure(*, db: Session, actor: Actor, views: list[CaseView]) -> None:
    """One audit record per response that shows personal data in full, naming every case shown in
    full and which of its fields; nothing when everything was masked."""
    disclosed = [view for view in views if view.disclosed]
    if disclosed:
        audit_service.record(db=db, actor=actor, action="case.contact_view", entity_type=ENTITY,
                             entity_id=disclosed[0].case.id if len(disclosed) == 1 else "many", before=None,
                             after={"case_ids": [view.case.id for view in disclosed],
                                    "fields": {str(view.case.id): sorted(view.disclosed) for view in disclosed}})


def case_outs(*, db: Session, actor: Actor, cases: list[Case], now: datetime) -> list[CaseOut]:
    """The API form of a page of cases as `actor` may see it at `now` (time left in each stage)."""
    calendar, departments = deadlines.working_calendar(db), case_policy().departments
    out = []
    for view in case_views(db=db, actor=actor, cases=cases):
        case = view.case
        department = departments[case.department]
        out.append(case_out(
            view=view, remaining=deadlines.remaining(calendar, case, now=now),
            allowed=[a.value for a in open_actions(CaseKind(case.kind), State(case.state))],
            yours=[a.value for a in role_actions(CaseKind(case.kind), State(case.state), actor.role)],
            department_name={"name": department.get(case.language, department[FALLBACK_LANGUAGE]),
                             "name_en": department[FALLBACK_LANGUAGE]},
            document_href=DOCUMENT_HREF.format(case_id=case.id), content_href=CONTENT_HREF))
    return out


def case_out_of(*, db: Session, actor: Actor, case: Case, now: datetime) -> CaseOut:
    """One case's page (`case_outs` of a page of one)."""
    return case_outs(db=db, actor=actor, cases=[case], now=now)[0]
