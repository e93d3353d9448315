"""Edge schemas for cases: registration, encroachment reports, actions, hand-over, and the answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from geoalchemy2.shape import to_shape
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from shapely.geometry import mapping

from cases.privacy import personal_data
from cases.visit_schemas import DecisionOut, SurveyOut, VisitOut, decision_out, survey_out, visit_out
from core.audit.models import AuditRecord
from core.bounds import DbInt, column_length
from gis.geo.geojson_schema import GeoJSONGeometry

CONNECTION_TYPES = ("new_connection", "capacity_increase", "capacity_decrease", "temporary_supply", "suspension",
                    "restoration", "relocation", "account_split", "closure")
# Types that add load to the network: the applied load is needed to route and check capacity.
LOAD_TYPES = frozenset({"new_connection", "capacity_increase", "temporary_supply", "relocation"})


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PlannedActivity(_In):
    activity: str
    parameters: dict[str, Any] = Field(default_factory=dict)


class CaseIn(_In):
    """A connection request (kind=connection) or a construction permit (kind=construction)."""

    kind: Literal["connection", "construction"]
    request_type: str = Field(description=f"connection: {', '.join(CONNECTION_TYPES)}; construction: "
                                          f"construction_permit")
    applicant_name: str = Field(min_length=1, max_length=200)
    applicant_phone: str | None = Field(default=None, max_length=40, pattern=r"^[0-9+()\- ]{3,40}$")
    applicant_id_number: str | None = Field(default=None, max_length=40, pattern=r"^[0-9A-Za-z\-]{4,40}$")
    site_address: str = Field(default="", max_length=300)
    description: str = Field(default="", max_length=4000)
    location: GeoJSONGeometry = Field(description="GeoJSON Point of the premises or site")
    footprint: GeoJSONGeometry | None = Field(default=None, description="GeoJSON Polygon of the site, if known")
    requested_load_kw: float | None = Field(default=None, gt=0, le=1_000_000, validate_default=True)
    requested_capacity_kva: float | None = Field(default=None, gt=0, le=2_000_000)
    voltage_kv: float = Field(gt=0, le=1200, description="Supply voltage level, e.g. 0.4 or 10")
    activities: list[PlannedActivity] = Field(default_factory=list, max_length=10, validate_default=True,
                                              description="Planned activities near lines (construction permits)")
    language: Literal["zh", "en"] = "zh"

    # Each rule is checked on the field it is about, so that a refusal names that field (a check
    # on the whole model would be reported against the body). Fields are validated in declaration
    # order: `info.data` holds the earlier fields that were valid.
    @field_validator("request_type")
    @classmethod
    def _type_of_kind(cls, value: str, info: ValidationInfo) -> str:
        kind = info.data.get("kind")
        if kind == "connection" and value not in CONNECTION_TYPES:
            raise ValueError(f"for a connection it must be one of {', '.join(CONNECTION_TYPES)}")
        if kind == "construction" and value != "construction_permit":
            raise ValueError("for construction it must be construction_permit")
        return value

    @field_validator("requested_load_kw", mode="after")
    @classmethod
    def _load_when_it_adds_load(cls, value: float | None, info: ValidationInfo) -> float | None:
        request_type = info.data.get("request_type")
        if info.data.get("kind") == "connection" and request_type in LOAD_TYPES and value is None:
            raise ValueError(f"required for {request_type}")
        return value

    @field_validator("activities", mode="after")
    @classmethod
    def _permit_names_its_work(cls, value: list[PlannedActivity], info: ValidationInfo) -> list[PlannedActivity]:
        if info.data.get("kind") == "construction" and not value:
            raise ValueError("a construction permit needs at least one planned activity")
        return value


class EncroachmentIn(_In):
    """Construction found in a protection zone by a patrol or a dispatcher."""

    location: GeoJSONGeometry
    footprint: GeoJSONGeometry | None = None
    description: str = Field(min_length=1, max_length=4000)
    activity: str | None = Field(default=None, description="What was found; policy.json's default when omitted")
    parameters: dict[str, Any] | None = Field(default=None, description="Its parameters; default as for activity")
    responsible_party: str = Field(default="", max_length=200, description="Who builds there, if known")
    site_address: str = Field(default="", max_length=300)
    language: Literal["zh", "en"] = "zh"


class ActionIn(_In):
    """The body of an action; which fields each action needs is checked by the service."""

    # A note is the audit record's reason for the change, so it is as long as that column allows.
    note: str | None = Field(default=None, max_length=column_length(AuditRecord.reason))
    assignee_id: DbInt | None = Field(default=None, description="assign_survey / assign_reinspection")
    findings: str | None = Field(default=None, max_length=8000, description="record_survey / record_reinspection")
    hazard_found: bool | None = Field(default=None, description="record_survey")
    passed: bool | None = Field(default=None, description="record_reinspection: the rectification is adequate")
    measures: list[str] = Field(default_factory=list, max_length=50,
                                description="Decisions: protection clauses, hazard measures or refusal reasons; "
                                            "record_survey / record_reinspection: measures found or "
                                            "recommended on site")
    rectification_days: int | None = Field(default=None, ge=1, le=120)
    language: Literal["zh", "en"] | None = None


class HandOverIn(_In):
    to_user_id: DbInt
    reason: str = Field(min_length=1, max_length=column_length(AuditRecord.reason),
                        description="Kept as the audit record's reason for the hand-over")


class PersonOut(BaseModel):
    id: int
    username: str
    full_name: str


class RemainingOut(BaseModel):
    working_days: int
    overdue: bool
    seconds: float
    calendar_covered: bool


class DocumentOut(BaseModel):
    id: int
    kind: str
    serial_number: str
    language: str
    sha256: str
    size_bytes: int
    signed_by: str
    signed_on: str
    href: str


class EventOut(BaseModel):
    at: datetime
    actor: str
    action: str
    from_state: str | None
    to_state: str
    details: dict[str, Any]


class CasePhotoOut(BaseModel):
    """A verified or suspicious photo of the case, its visit tasks or their findings (`media.summaries`)."""

    id: int
    state: str = Field(description="verified, or suspicious (shown with its reasons, never dropped)")
    reasons: list[dict[str, Any]]
    file_name: str
    captured_at: datetime | None = Field(description="From the photo's EXIF, else the device's declaration")
    distance_m: float | None = Field(description="From the photo's position to the linked record's geometry")
    threshold_m: float | None
    position_source: str | None = Field(description="exif, or device (weaker: the phone's position at upload)")
    thumb: str | None = Field(description="The 320 px variant's content route (None until it is made)")
    large: str | None = Field(description="The 1280 px variant's content route (None until it is made)")


class CaseOut(BaseModel):
    id: int
    number: str
    kind: str
    request_type: str
    state: str
    version: int
    allowed_actions: list[str]
    your_actions: list[str] = Field(description="Of `allowed_actions`, those the caller's role may take (what a "
                                                "console offers); per-case rules are checked when acting")
    department: dict[str, str]
    owner: PersonOut
    assignee: PersonOut | None
    applicant_name: str
    applicant_phone: str | None = Field(description="In full only to the case's owner, assignee or a deciding "
                                                    "officer whose role may read contacts; else masked")
    applicant_id_number: str | None = Field(description="In full only to the case's owner, assignee or a deciding "
                                                        "officer whose role may read ID numbers (approval "
                                                        "officers); else masked to its last four characters")
    site_address: str
    description: str
    location: dict[str, Any]
    footprint: dict[str, Any] | None
    requested_load_kw: float | None
    requested_capacity_kva: float | None
    voltage_kv: float
    activities: list[dict[str, Any]]
    verdict: str | None
    screening_ids: list[int]
    survey: SurveyOut | None
    decision: DecisionOut | None
    visits: list[VisitOut] = Field(description="Every site visit, pending or recorded, in the order they were "
                                               "assigned; `survey` summarises the recorded ones")
    deadline_at: datetime | None
    remaining: RemainingOut | None
    escalation_level: int
    overdue_flagged_at: datetime | None
    created_at: datetime
    documents: list[DocumentOut]
    evidence: list[CasePhotoOut] = Field(description="The photos of the case, its site visits and their findings, "
                                                     "oldest capture first")
    history: list[EventOut]


def _person(user: Any) -> PersonOut | None:
    return None if user is None else PersonOut(id=user.id, username=user.username, full_name=user.full_name)


def _geometry(value: Any) -> dict[str, Any] | None:
    return None if value is None else dict(mapping(to_shape(value)))


def _photo_out(photo: Any, content_href: str) -> CasePhotoOut:
    def href(key: str | None, variant: str) -> str | None:
        return None if key is None else content_href.format(evidence_id=photo.evidence_id, variant=variant)

    return CasePhotoOut(id=photo.evidence_id, state=photo.state, reasons=list(photo.reasons),
                        file_name=photo.file_name, captured_at=photo.captured_at, distance_m=photo.distance_m,
                        threshold_m=photo.threshold_m, position_source=photo.position_source,
                        thumb=href(photo.thumb_key, "thumb"), large=href(photo.large_key, "large"))


def case_out(*, view: Any, remaining: Any, allowed: list[str], yours: list[str], department_name: dict[str, str],
             document_href: str, content_href: str) -> CaseOut:
    """The one place a stored case becomes its API form; personal data in full only where the
    view says the caller needs it (`view.disclosed`, decided by `cases.privacy`), else masked."""
    case = view.case
    personal = personal_data(case, view.disclosed)
    return CaseOut(
        id=case.id, number=case.number, kind=case.kind, request_type=case.request_type, state=case.state,
        version=case.version, allowed_actions=allowed, your_actions=yours, department={"code": case.department, **department_name},
        owner=_person(view.owner), assignee=_person(view.assignee),  # type: ignore[arg-type]
        applicant_name=case.applicant_name,
        applicant_phone=personal["applicant_phone"], applicant_id_number=personal["applicant_id_number"],
        site_address=case.site_address, description=case.description, location=_geometry(case.location) or {},
        footprint=_geometry(case.footprint), requested_load_kw=case.requested_load_kw,
        requested_capacity_kva=case.requested_capacity_kva,
        voltage_kv=case.voltage_kv, activities=case.activities, verdict=case.verdict,
        screening_ids=case.screening_ids, survey=survey_out(view.visits), decision=decision_out(view.decisions),
        visits=[visit_out(visit) for visit in view.visits], deadline_at=case.deadline_at,
        remaining=None if remaining is None else RemainingOut(**vars(remaining)),
        escalation_level=case.escalation_level, overdue_flagged_at=case.overdue_flagged_at,
        created_at=case.created_at,
        documents=[DocumentOut(id=d.id, kind=d.kind, serial_number=d.serial_number, language=d.language,
                               sha256=d.sha256, size_bytes=d.size_bytes, signed_by=d.signed_by,
                               signed_on=d.signed_on.isoformat(), href=document_href.format(document_id=d.id))
                   for d in view.documents],
        evidence=[_photo_out(photo, content_href) for photo in view.photos],
        history=[EventOut(at=e.at, actor=e.actor_name, action=e.action, from_state=e.from_state, to_state=e.to_state,
                          details=e.details) for e in view.events])


class CasePage(BaseModel):
    """A page of cases in id order; `next_cursor` fetches the next page (None: this was the last)."""

    items: list[CaseOut]
    next_cursor: str | None
