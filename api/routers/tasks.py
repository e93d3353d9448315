"""Field tasks at /tasks and the findings console at /findings. Thin: each operation is one call
into `inspections.use_cases`; this module sets status codes and headers. Which task a caller may
see or act on, and which action or field, is decided per task in `inspections.service`."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response, status

from api.dependencies import (
    AppSettings,
    DbSession,
    ExpectedVersion,
    InputCrs,
    Now,
    Page,
    next_cursor,
    parse_bbox,
    require,
)
from api.http import etag, submitted
from core.bounds import DbId, IsoDateTime
from core.context import Actor
from core.settings import Settings
from inspections import use_cases
from inspections.findings import FindingFilter
from inspections.permissions import TASKS_PLAN, TASKS_READ, TASKS_READ_ALL
from inspections.queries import TaskFilter
from inspections.schemas import (
    AnswersIn,
    FindingIn,
    FindingOut,
    FindingPage,
    TaskActionIn,
    TaskIn,
    TaskOut,
    TaskPage,
    TaskPatch,
)
from inspections.workflow import TaskState, TaskType

router = APIRouter(tags=["field work"])
Reader = Annotated[Actor, Depends(require(TASKS_READ))]
Planner = Annotated[Actor, Depends(require(TASKS_PLAN))]
Console = Annotated[Actor, Depends(require(TASKS_READ_ALL))]
BBox = Annotated[str | None, Query(description="minx,miny,maxx,maxy in bbox-crs (default EPSG:4326)")]
BBoxCrs = Annotated[str | None, Query(alias="bbox-crs")]


def _task(out: TaskOut, response: Response) -> TaskOut:
    response.headers["ETag"] = etag(out.version)
    return out


def _box(settings: Settings, bbox: str | None, bbox_crs: str | None) -> tuple[float, float, float, float] | None:
    found = parse_bbox(settings, bbox, bbox_crs)
    return None if found is None else (found.min_lon, found.min_lat, found.max_lon, found.max_lat)


async def task_filter(state: Annotated[TaskState | None, Query()] = None,
                      task_type: Annotated[TaskType | None, Query()] = None,
                      assignee_id: Annotated[DbId | None, Query()] = None,
                      due_before: Annotated[IsoDateTime | None, Query(description="Window ends before")] = None,
                      due_after: Annotated[IsoDateTime | None, Query(description="Window ends at or after")] = None,
                      ) -> TaskFilter:
    return TaskFilter(state=state.value if state else None, task_type=task_type.value if task_type else None,
                      assignee_id=assignee_id, due_before=due_before, due_after=due_after)


@router.post("/tasks", response_model=TaskOut, status_code=status.HTTP_201_CREATED,
             summary="Plan a field task (and assign it at once, qualification-gated)")
def create_task(body: TaskIn, db: DbSession, actor: Planner, settings: AppSettings, crs: InputCrs, now: Now,
                response: Response) -> TaskOut:
    return _task(use_cases.create_task(db=db, actor=actor, settings=settings, now=now, body=body, epsg=crs), response)


@router.get("/tasks", response_model=TaskPage, summary="Tasks (an inspector's: their own); follow `next_cursor`")
def list_tasks(db: DbSession, actor: Reader, settings: AppSettings, page: Page,
               query: Annotated[TaskFilter, Depends(task_filter)], bbox: BBox = None,
               bbox_crs: BBoxCrs = None) -> TaskPage:
    query = TaskFilter(**{**vars(query), "bbox": _box(settings, bbox, bbox_crs), "after_id": page.after_id,
                          "limit": page.limit})
    items = use_cases.list_tasks(db=db, actor=actor, query=query)
    return TaskPage(items=items, next_cursor=next_cursor(items[-1].id if items else None, returned=len(items),
                                                         limit=page.limit))


@router.get("/tasks/{task_id}", response_model=TaskOut, summary="One task with its answers and findings")
def get_task(task_id: DbId, db: DbSession, actor: Reader, response: Response) -> TaskOut:
    return _task(use_cases.get_task(db=db, actor=actor, task_id=task_id), response)


@router.patch("/tasks/{task_id}", response_model=TaskOut, summary="Change a task's plan (If-Match required)")
def update_task(task_id: DbId, body: TaskPatch, db: DbSession, actor: Reader, expected_version: ExpectedVersion,
                now: Now, response: Response) -> TaskOut:
    return _task(use_cases.update_task(db=db, actor=actor, now=now, task_id=task_id, patch=body,
                                       expected_version=expected_version), response)


@router.post("/tasks/{task_id}/actions", response_model=TaskOut,
             summary="Move a task on (If-Match required); illegal moves are 409 with the allowed ones")
def act(task_id: DbId, body: TaskActionIn, db: DbSession, actor: Reader, expected_version: ExpectedVersion, now: Now,
        response: Response) -> TaskOut:
    return _task(use_cases.act(db=db, actor=actor, now=now, task_id=task_id, body=body,
                               expected_version=expected_version), response)


@router.put("/tasks/{task_id}/answers", response_model=TaskOut,
            summary="Record checklist answers (the assignee; If-Match required)")
def save_answers(task_id: DbId, body: AnswersIn, db: DbSession, actor: Reader, expected_version: ExpectedVersion,
                 now: Now, response: Response) -> TaskOut:
    return _task(use_cases.save_answers(db=db, actor=actor, now=now, task_id=task_id, body=body,
                                        expected_version=expected_version), response)


@router.post("/tasks/{task_id}/findings", response_model=FindingOut, status_code=status.HTTP_201_CREATED,
             summary="Report a finding (the assignee); its uuid sent again answers 200 with the first")
def report_finding(task_id: DbId, body: FindingIn, db: DbSession, actor: Reader, settings: AppSettings,
                   crs: InputCrs, now: Now, response: Response) -> FindingOut:
    return submitted(use_cases.report_finding(db=db, actor=actor, settings=settings, now=now, task_id=task_id,
                                              body=body, epsg=crs), response)


@router.get("/findings", response_model=FindingPage, summary="Findings for the dispatcher console")
def list_findings(db: DbSession, _actor: Console, settings: AppSettings, page: Page,
                  severity: Annotated[Literal["critical", "major", "minor"] | None, Query()] = None,
                  follow_up: Annotated[Literal["open", "done", "none"] | None, Query(
                      description="open: follow-up task not closed; done: closed or cancelled; none: no follow-up")]
                  = None, bbox: BBox = None, bbox_crs: BBoxCrs = None) -> FindingPage:
    items = use_cases.list_findings(db=db, query=FindingFilter(severity=severity, follow_up=follow_up,
                                                               bbox=_box(settings, bbox, bbox_crs),
                                                               after_id=page.after_id, limit=page.limit))
    return FindingPage(items=items, next_cursor=next_cursor(items[-1].id if items else None, returned=len(items),
                                                            limit=page.limit))
