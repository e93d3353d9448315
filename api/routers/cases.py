"""Cases at /cases: connection requests and construction permits (`POST /cases`), encroachment
reports (`POST /cases/encroachments`), workflow actions, hand-over, deadlines, the overdue list and
decision documents. Thin: every rule lives in `cases.service`.

Before cases had one name the same operations were at /requests and /encroachments; those paths
still answer (not in the OpenAPI document) so that existing clients keep working."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Response, status
from sqlalchemy.orm import Session

from api.dependencies import AppSettings, DbSession, ExpectedVersion, IdempotencyKey, InputCrs, Storage, require
from cases import deadlines, service
from cases.models import Case
from cases.permissions import CASES_READ, CASES_REGISTER, CASES_REPORT_ENCROACHMENT
from cases.policy import case_policy
from cases.schemas import ActionIn, CaseIn, CaseOut, EncroachmentIn, HandOverIn, case_out
from cases.workflow import Action, CaseKind, State, allowed_actions
from core.bounds import DbId, DbInt
from core.context import Actor

_cases = APIRouter(tags=["cases"])
_reports = APIRouter(tags=["cases"])
Reader = Annotated[Actor, Depends(require(CASES_READ))]
Registrar = Annotated[Actor, Depends(require(CASES_REGISTER))]
Reporter = Annotated[Actor, Depends(require(CASES_REPORT_ENCROACHMENT))]


def _outs(db: Session, cases: list[Case], actor: Actor) -> list[CaseOut]:
    """The API form of a page of cases, personal data as `actor` needs it (logged once for the page)."""
    calendar, now, departments = deadlines.working_calendar(db), datetime.now(UTC), case_policy().departments
    out = []
    for view in service.case_views(db=db, actor=actor, cases=cases):
        case = view.case
        language = case.language if case.language in ("zh", "en") else "en"
        department = departments[case.department]
        out.append(case_out(
            view=view, remaining=deadlines.remaining(calendar, case, now=now),
            allowed=[a.value for a in allowed_actions(CaseKind(case.kind), State(case.state)) if a != Action.screen],
            department_name={"name": department[language], "name_en": department["en"]},
            document_href=f"/api/v1/cases/{case.id}/documents/{{document_id}}"))
    return out


def _out(db: Session, case: Case, actor: Actor) -> CaseOut:
    return _outs(db, [case], actor)[0]


def _register(db: Session, actor: Actor, settings: AppSettings, registration: service.Registration,
              idempotency_key: str | None, response: Response) -> CaseOut:
    """Store and screen a prepared case; a replayed Idempotency-Key answers 200 with the first case."""
    case, created = service.register(db=db, actor=actor, registration=registration, settings=settings,
                                     now=datetime.now(UTC), idempotency_key=idempotency_key)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    response.headers["ETag"] = f'"{case.version}"'
    return _out(db, case, actor)


@_cases.post("", response_model=CaseOut, status_code=status.HTTP_201_CREATED,
             summary="Register a connection request or construction permit; it is screened at once")
def register_request(body: CaseIn, db: DbSession, actor: Registrar, settings: AppSettings, crs: InputCrs,
                     response: Response, idempotency_key: IdempotencyKey = None) -> CaseOut:
    registration = service.prepare_case(db=db, case_in=body, epsg=crs, settings=settings)
    return _register(db, actor, settings, registration, idempotency_key, response)


@_reports.post("", response_model=CaseOut, status_code=status.HTTP_201_CREATED,
             summary="Report construction found in a protection zone; it becomes a screened case")
def report_encroachment(body: EncroachmentIn, db: DbSession, actor: Reporter, settings: AppSettings, crs: InputCrs,
                        response: Response, idempotency_key: IdempotencyKey = None) -> CaseOut:
    registration = service.prepare_encroachment(db=db, report=body, epsg=crs, settings=settings)
    return _register(db, actor, settings, registration, idempotency_key, response)


@_cases.get("", response_model=list[CaseOut], summary="Cases, optionally only the overdue ones")
def list_requests(db: DbSession, actor: Reader,
                  state: Annotated[State | None, Query()] = None,
                  kind: Annotated[CaseKind | None, Query()] = None,
                  owner_id: Annotated[DbInt | None, Query(ge=1)] = None,
                  overdue: Annotated[bool, Query(description="Only open cases past their deadline")] = False,
                  after_id: Annotated[DbInt | None, Query(ge=0)] = None,
                  limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[CaseOut]:
    query = service.CaseFilter(state=state.value if state else None, kind=kind.value if kind else None,
                               owner_id=owner_id, overdue_at=datetime.now(UTC) if overdue else None,
                               after_id=after_id, limit=limit)
    return _outs(db, service.list_cases(db=db, query=query), actor)


@_cases.get("/{case_id:int}", response_model=CaseOut, summary="One case with deadline, history, documents")
def get_request(case_id: DbId, db: DbSession, actor: Reader, response: Response) -> CaseOut:
    case = service.get_case(db=db, case_id=case_id)
    response.headers["ETag"] = f'"{case.version}"'
    return _out(db, case, actor)


@_cases.post("/{case_id:int}/actions/{action}", response_model=CaseOut,
             summary="Move a case on (If-Match required); illegal moves are 409 with the allowed ones")
def act(case_id: DbId, action: Action, db: DbSession, actor: Reader, storage: Storage,
        settings: AppSettings, expected_version: ExpectedVersion, response: Response,
        body: Annotated[ActionIn | None, Body()] = None) -> CaseOut:
    case = service.act(db=db, actor=actor, storage=storage, settings=settings, case_id=case_id,
                       expected_version=expected_version, action=action, body=body or ActionIn(),
                       now=datetime.now(UTC))
    response.headers["ETag"] = f'"{case.version}"'
    return _out(db, case, actor)


@_cases.post("/{case_id:int}/hand-over", response_model=CaseOut,
             summary="Hand the case to the next accountable person (If-Match required)")
def hand_over(case_id: DbId, body: HandOverIn, db: DbSession, actor: Reader, expected_version: ExpectedVersion,
              response: Response) -> CaseOut:
    case = service.hand_over(db=db, actor=actor, case_id=case_id, expected_version=expected_version,
                             to_user_id=body.to_user_id, reason=body.reason)
    response.headers["ETag"] = f'"{case.version}"'
    return _out(db, case, actor)


@_cases.get("/{case_id:int}/documents/{document_id:int}", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}}, summary="A decision document (PDF)")
def get_document(case_id: DbId, document_id: DbId, db: DbSession, _actor: Reader, storage: Storage) -> Response:
    serial, pdf = service.document_pdf(db=db, storage=storage, case_id=case_id, document_id=document_id)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{serial}.pdf"'})


router = APIRouter()
router.include_router(_cases, prefix="/cases")
router.include_router(_reports, prefix="/cases/encroachments")
router.include_router(_cases, prefix="/requests", include_in_schema=False)
router.include_router(_reports, prefix="/encroachments", include_in_schema=False)
