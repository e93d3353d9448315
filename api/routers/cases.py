"""Cases at /cases: connection requests and construction permits (`POST /cases`), encroachment
reports (`POST /cases/encroachments`), workflow actions, hand-over, deadlines, the overdue list and
decision documents. Thin: each operation is one call into `cases.use_cases`; this module only
sets status codes and headers.

Before cases had one name the same operations were at /requests and /encroachments; those paths
still answer (not in the OpenAPI document) so that existing clients keep working, and the list at
/requests keeps its old form (a bare list paged by `after_id` and `limit`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Response, status

from api.dependencies import (
    AppSettings,
    DbSession,
    ExpectedVersion,
    IdempotencyKey,
    InputCrs,
    Now,
    Page,
    Storage,
    next_cursor,
    require,
)
from api.http import etag, submitted
from cases import use_cases
from cases.permissions import CASES_READ, CASES_REGISTER, CASES_REPORT_ENCROACHMENT
from cases.schemas import ActionIn, CaseIn, CaseOut, CasePage, EncroachmentIn, HandOverIn
from cases.use_cases import CaseQuery
from cases.workflow import Action, CaseKind, State
from core.bounds import DbId, DbInt
from core.context import Actor

_cases = APIRouter(tags=["cases"])
_reports = APIRouter(tags=["cases"])
_old_list = APIRouter(tags=["cases"])
Reader = Annotated[Actor, Depends(require(CASES_READ))]
Registrar = Annotated[Actor, Depends(require(CASES_REGISTER))]
Reporter = Annotated[Actor, Depends(require(CASES_REPORT_ENCROACHMENT))]
# Acting on a case or handing it over: whoever may see cases gets this far (cases:read); which
# action a role may take, and who may hand over, the workflow then decides per case (cases.service).
CaseWorker = Annotated[Actor, Depends(require(CASES_READ))]


def _case(out: CaseOut, response: Response) -> CaseOut:
    response.headers["ETag"] = etag(out.version)
    return out


@_cases.post("", response_model=CaseOut, status_code=status.HTTP_201_CREATED,
             summary="Register a connection request or construction permit; it is screened at once")
def register_request(body: CaseIn, db: DbSession, actor: Registrar, settings: AppSettings, crs: InputCrs, now: Now,
                     response: Response, idempotency_key: IdempotencyKey = None) -> CaseOut:
    """A replayed Idempotency-Key answers 200 with the first case."""
    result = use_cases.register_request(db=db, actor=actor, settings=settings, case_in=body, epsg=crs, now=now,
                                        idempotency_key=idempotency_key)
    return _case(submitted(result, response), response)


@_reports.post("", response_model=CaseOut, status_code=status.HTTP_201_CREATED,
               summary="Report construction found in a protection zone; it becomes a screened case")
def report_encroachment(body: EncroachmentIn, db: DbSession, actor: Reporter, settings: AppSettings, crs: InputCrs,
                        now: Now, response: Response, idempotency_key: IdempotencyKey = None) -> CaseOut:
    result = use_cases.report_encroachment(db=db, actor=actor, settings=settings, report=body, epsg=crs, now=now,
                                           idempotency_key=idempotency_key)
    return _case(submitted(result, response), response)


async def case_query(state: Annotated[State | None, Query()] = None,
                     kind: Annotated[CaseKind | None, Query()] = None,
                     owner_id: Annotated[DbInt | None, Query(ge=1)] = None,
                     overdue: Annotated[bool, Query(description="Only open cases past their deadline")] = False,
                     department: Annotated[str | None, Query(
                         max_length=60, description="Only cases of this department: its code in the case policy, "
                                                    "e.g. safety_department")] = None,
                     ) -> CaseQuery:
    return CaseQuery(state=state, kind=kind, owner_id=owner_id, overdue=overdue, department=department)


CaseFilters = Annotated[CaseQuery, Depends(case_query)]


@_cases.get("", response_model=CasePage, summary="Cases, optionally only the overdue ones; follow `next_cursor`")
def list_requests(db: DbSession, actor: Reader, now: Now, query: CaseFilters, page: Page) -> CasePage:
    items = use_cases.list_cases(db=db, actor=actor, query=query, after_id=page.after_id, limit=page.limit, now=now)
    return CasePage(items=items, next_cursor=next_cursor(items[-1].id if items else None, returned=len(items),
                                                         limit=page.limit))


@_old_list.get("", response_model=list[CaseOut], include_in_schema=False)
def list_cases_before_cursors(db: DbSession, actor: Reader, now: Now, query: CaseFilters,
                              after_id: Annotated[DbInt | None, Query(ge=0)] = None,
                              limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[CaseOut]:
    """GET /requests as it was: a bare list, paged by the last id seen (`after_id`)."""
    return use_cases.list_cases(db=db, actor=actor, query=query, after_id=after_id, limit=limit, now=now)


@_cases.get("/{case_id:int}", response_model=CaseOut, summary="One case with deadline, history, documents")
def get_request(case_id: DbId, db: DbSession, actor: Reader, now: Now, response: Response) -> CaseOut:
    return _case(use_cases.get_case(db=db, actor=actor, case_id=case_id, now=now), response)


@_cases.post("/{case_id:int}/actions/{action}", response_model=CaseOut,
             summary="Move a case on (If-Match required); illegal moves are 409 with the allowed ones")
def act(case_id: DbId, action: Action, db: DbSession, actor: CaseWorker, storage: Storage,
        settings: AppSettings, expected_version: ExpectedVersion, now: Now, response: Response,
        body: Annotated[ActionIn | None, Body()] = None) -> CaseOut:
    return _case(use_cases.act(db=db, actor=actor, storage=storage, settings=settings, case_id=case_id,
                               expected_version=expected_version, action=action, body=body or ActionIn(), now=now),
                 response)


@_cases.post("/{case_id:int}/hand-over", response_model=CaseOut,
             summary="Hand the case to the next accountable person (If-Match required)")
def hand_over(case_id: DbId, body: HandOverIn, db: DbSession, actor: CaseWorker, expected_version: ExpectedVersion,
              now: Now, response: Response) -> CaseOut:
    return _case(use_cases.hand_over(db=db, actor=actor, case_id=case_id, expected_version=expected_version,
                                     to_user_id=body.to_user_id, reason=body.reason, now=now), response)


@_cases.get("/{case_id:int}/documents/{document_id:int}", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}}, summary="A decision document (PDF)")
def get_document(case_id: DbId, document_id: DbId, db: DbSession, _actor: Reader, storage: Storage) -> Response:
    serial, pdf = use_cases.document(db=db, storage=storage, case_id=case_id, document_id=document_id)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{serial}.pdf"'})


router = APIRouter()
router.include_router(_cases, prefix="/cases")
router.include_router(_reports, prefix="/cases/encroachments")
router.include_router(_old_list, prefix="/requests", include_in_schema=False)  # before _cases: its list wins
router.include_router(_cases, prefix="/requests", include_in_schema=False)
router.include_router(_reports, prefix="/encroachments", include_in_schema=False)
