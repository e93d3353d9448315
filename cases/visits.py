"""Site visits and decisions as records: who was sent to a case's site, who went, when and what
they found; who decided, when, with which measures and which document.

A visit row is created when someone is sent (assign_survey / assign_reinspection) and completed
when the visit is recorded; re-assigning a pending visit changes who goes on the same row. Field
work (issue 9) turns a visit into a task with a checklist and photos: the task points at its
visit, and completing it records the visit through the case workflow as `record` does here.

What a case's visits established (`site_findings`) is what its decision rules read: the last
survey, and the last re-inspection after it. Keyword-only functions, no HTTP, no commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from cases.models import Case, CaseDecision, DecisionDocumentRecord, SiteVisit
from cases.workflow import Action
from core.context import Actor


class VisitKind(StrEnum):
    survey = "survey"  # the first visit, before any decision: is there a hazard?
    reinspection = "reinspection"  # after a hazard notice: is the rectification adequate?


# The actions that send someone on a visit, and those that record it.
ASSIGNS = {Action.assign_survey: VisitKind.survey, Action.assign_reinspection: VisitKind.reinspection}
RECORDS = {Action.record_survey: VisitKind.survey, Action.record_reinspection: VisitKind.reinspection}


@dataclass(frozen=True)
class SiteFindings:
    """What a case's recorded visits established: its last survey, and the last re-inspection
    after that survey (None until a rectification was re-inspected)."""

    survey: SiteVisit | None
    reinspection: SiteVisit | None

    @property
    def remedied(self) -> bool:
        """The last re-inspection found the rectification adequate."""
        return self.reinspection is not None and bool(self.reinspection.passed)

    @property
    def hazard_found(self) -> bool:
        return self.survey is not None and bool(self.survey.hazard_found)


def site_findings(visits: Iterable[SiteVisit]) -> SiteFindings:
    """`visits` in the order they were made (a case's `visits`, or a page's rows by id). Order,
    not ids, decides: a visit recorded in this transaction may not have its id yet."""
    survey: SiteVisit | None = None
    reinspection: SiteVisit | None = None
    for visit in visits:
        if visit.visited_at is None:
            continue
        if visit.kind == VisitKind.survey:
            survey, reinspection = visit, None
        else:
            reinspection = visit
    return SiteFindings(survey=survey, reinspection=reinspection)


def pending_visit(case: Case, kind: VisitKind) -> SiteVisit | None:
    """The visit of `kind` someone is sent on and has not recorded yet, if any."""
    return next((v for v in case.visits if v.visited_at is None and v.kind == kind), None)


def assign(*, case: Case, kind: VisitKind, assignee_id: int, actor: Actor, now: datetime) -> SiteVisit:
    """Send `assignee_id` on a visit of `kind`; while one is pending it is re-assigned instead of
    a second one opened (the surveyor is ill, left...)."""
    visit = pending_visit(case, kind)
    if visit is None:
        visit = SiteVisit(kind=kind.value, measures=[])
        case.visits.append(visit)
    visit.assigned_to_id, visit.assigned_by_id, visit.assigned_at = assignee_id, actor.user_id, now
    return visit


def record(*, case: Case, kind: VisitKind, actor: Actor, findings: str, hazard_found: bool | None,
           passed: bool | None, measures: Sequence[str], now: datetime) -> SiteVisit:
    """Complete the pending visit of `kind` with what `actor` found on site. Every case waiting for
    a visit has its pending row (opened by `assign`, or by migration 49a01cbf55dd for cases sent out
    before visits were rows); were one missing all the same, the visit is opened for the case's
    assignee here rather than its record lost."""
    visit = pending_visit(case, kind)
    if visit is None:
        visit = SiteVisit(kind=kind.value, assigned_to_id=case.assignee_id)
        case.visits.append(visit)
    visit.visited_by_id, visit.visited_by_name, visit.visited_at = actor.user_id, actor.username, now
    visit.findings, visit.measures = findings, list(measures)
    visit.hazard_found = hazard_found if kind == VisitKind.survey else None
    visit.passed = passed if kind == VisitKind.reinspection else None
    return visit


def record_decision(*, case: Case, action: Action, actor: Actor, measures: Sequence[str], note: str | None,
                    reported_to: str | None, document: DecisionDocumentRecord | None, now: datetime
                    ) -> CaseDecision:
    decision = CaseDecision(action=action.value, decided_by_id=actor.user_id, decided_by_name=actor.username,
                            decided_at=now, measures=list(measures), note=note, reported_to=reported_to,
                            document=document)
    case.decisions.append(decision)
    return decision


def current_decision(decisions: Sequence[CaseDecision]) -> CaseDecision | None:
    """The decision in force: the last one taken (a hazard notice is followed by the final one)."""
    return decisions[-1] if decisions else None
