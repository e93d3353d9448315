"""The API form of a case's site visits and decisions: `visits` as they are, and `survey` and
`decision` in the shape they had as JSON documents on the case (issue 8 §4: typed now, unchanged for
clients and for the audit log, which keeps the same dictionaries)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, Field, PlainSerializer, SerializerFunctionWrapHandler, WithJsonSchema, model_serializer

from cases.models import CaseDecision, SiteVisit
from cases.visits import VisitKind, current_decision, site_findings

# An instant as cases have always shown it in `survey` and `decision`: ISO 8601 in UTC with its
# offset written out (`+00:00`, not pydantic's `Z`), so that clients and audit snapshots see the
# same strings as before these were typed.
Instant = Annotated[datetime, PlainSerializer(lambda at: at.astimezone(UTC).isoformat(), return_type=str),
                    WithJsonSchema({"type": "string", "format": "date-time"})]


class _OmitsAbsent(BaseModel):
    """A record whose optional parts are left out when they do not apply, rather than null: the
    shape `survey` and `decision` have had since they were JSON documents."""

    omitted_when_none: ClassVar[frozenset[str]] = frozenset()

    @model_serializer(mode="wrap")
    def _omit_absent(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        for name in self.omitted_when_none:
            if data.get(name) is None:
                data.pop(name, None)
        return data


class ReinspectionOut(BaseModel):
    findings: str
    passed: bool = Field(description="The rectification is adequate")
    by: str = Field(description="Who re-inspected, by username")
    at: Instant


class SurveyOut(_OmitsAbsent):
    """The last site survey, with the last re-inspection after it (absent until there was one)."""

    omitted_when_none = frozenset({"reinspection"})

    findings: str
    hazard_found: bool
    by: str = Field(description="Who surveyed, by username")
    at: Instant
    reinspection: ReinspectionOut | None = Field(default=None, description="Absent until a re-inspection")


class DocumentRefOut(BaseModel):
    id: int
    serial_number: str


class DecisionOut(_OmitsAbsent):
    """The decision in force (the last one taken)."""

    omitted_when_none = frozenset({"reported_to", "document"})

    action: str
    by: str = Field(description="Who decided, by username")
    at: Instant
    measures: list[str]
    note: str | None
    reported_to: str | None = Field(default=None, description="Refusals only: whom the refusal is reported to")
    document: DocumentRefOut | None = Field(default=None, description="Only when the decision issued a document")


class VisitOut(BaseModel):
    """One site visit, pending (`visited_at` null) or recorded."""

    id: int
    kind: VisitKind
    assigned_to_id: int | None
    assigned_at: datetime | None
    visited_by_id: int | None
    visited_by: str | None = Field(description="Who went, by username")
    visited_at: datetime | None
    findings: str | None
    hazard_found: bool | None = Field(description="Surveys: a hazard was found")
    passed: bool | None = Field(description="Re-inspections: the rectification is adequate")
    measures: list[str] = Field(description="Measures found or recommended on site, if the visitor named any")


def _recorded(visit: SiteVisit) -> tuple[str, str, datetime]:
    """A recorded visit's findings, visitor and time (the table's check constraint keeps them set)."""
    if visit.findings is None or visit.visited_by_name is None or visit.visited_at is None:
        raise ValueError(f"Site visit {visit.id} is not recorded yet.")
    return visit.findings, visit.visited_by_name, visit.visited_at


def survey_out(visits: list[SiteVisit]) -> SurveyOut | None:
    """A case's `survey` from its visits (in the order they were made)."""
    found = site_findings(visits)
    if found.survey is None:
        return None
    reinspection = None
    if found.reinspection is not None:
        findings, by, at = _recorded(found.reinspection)
        reinspection = ReinspectionOut(findings=findings, passed=bool(found.reinspection.passed), by=by, at=at)
    findings, by, at = _recorded(found.survey)
    return SurveyOut(findings=findings, hazard_found=bool(found.survey.hazard_found), by=by, at=at,
                     reinspection=reinspection)


def decision_out(decisions: list[CaseDecision]) -> DecisionOut | None:
    """A case's `decision` from its decisions (in the order they were taken)."""
    decision = current_decision(decisions)
    if decision is None:
        return None
    document = decision.document
    return DecisionOut(action=decision.action, by=decision.decided_by_name, at=decision.decided_at,
                       measures=decision.measures, note=decision.note, reported_to=decision.reported_to,
                       document=None if document is None else DocumentRefOut(id=document.id,
                                                                             serial_number=document.serial_number))


def visit_out(visit: SiteVisit) -> VisitOut:
    return VisitOut(id=visit.id, kind=VisitKind(visit.kind), assigned_to_id=visit.assigned_to_id,
                    assigned_at=visit.assigned_at, visited_by_id=visit.visited_by_id,
                    visited_by=visit.visited_by_name, visited_at=visit.visited_at, findings=visit.findings,
                    hazard_found=visit.hazard_found, passed=visit.passed, measures=visit.measures)


def survey_json(visits: list[SiteVisit]) -> dict[str, Any] | None:
    """A case's `survey` as the audit log keeps it."""
    survey = survey_out(visits)
    return None if survey is None else survey.model_dump(mode="json")


def decision_json(decisions: list[CaseDecision]) -> dict[str, Any] | None:
    """A case's `decision` as the audit log and the case's history keep it."""
    decision = decision_out(decisions)
    return None if decision is None else decision.model_dump(mode="json")
