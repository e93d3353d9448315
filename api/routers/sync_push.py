"""Sync push at /sync: a device's batch of mutations (`POST /sync/push`), their current results
(`GET /sync/mutations`), and the dispatch desk's queues of what a push could not settle alone: the
backlog of items waiting for a parent (`/sync/backlog`) and field conflicts (`/sync/conflicts`).
Thin: one call into `inspections.sync` per operation."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from api.dependencies import AppSettings, CurrentDevice, DbSession, Now, Page, next_cursor, require
from core.bounds import DbId
from core.context import Actor
from inspections.sync import backlog, conflicts, push
from inspections.sync.push_permissions import SYNC_BACKLOG_MANAGE, SYNC_CONFLICTS_RESOLVE, SYNC_PUSH
from inspections.sync.push_schemas import (
    BacklogOut,
    BacklogPage,
    BacklogResolveIn,
    ConflictOut,
    ConflictPage,
    ConflictResolveIn,
    MutationsOut,
    PushIn,
    PushOut,
)

router = APIRouter(prefix="/sync", tags=["sync"])
Pusher = Annotated[Actor, Depends(require(SYNC_PUSH))]
ConflictDesk = Annotated[Actor, Depends(require(SYNC_CONFLICTS_RESOLVE))]
BacklogDesk = Annotated[Actor, Depends(require(SYNC_BACKLOG_MANAGE))]
MAX_UUIDS = 500


@router.post("/push", response_model=PushOut,
             summary="Apply a batch of offline mutations; one result per item (idempotent by item uuid)")
def push_batch(body: PushIn, db: DbSession, actor: Pusher, device_id: CurrentDevice, settings: AppSettings,
               now: Now) -> PushOut:
    """Needs a device token: every mutation is recorded with the device that pushed it."""
    return push.push(db=db, actor=actor, now=now, settings=settings, batch=body, device_id=device_id)


@router.get("/mutations", response_model=MutationsOut,
            summary="The current results of the caller's own mutations (a queued item's, once applied)")
def mutation_results(db: DbSession, actor: Pusher,
                     uuids: Annotated[list[UUID], Query(min_length=1, max_length=MAX_UUIDS)]) -> MutationsOut:
    return MutationsOut(items=push.mutation_results(db=db, actor=actor, uuids=uuids))


@router.get("/backlog", response_model=BacklogPage,
            summary="Items waiting for a parent the server has not received; `expired` is the dispatcher's queue")
def list_backlog(db: DbSession, _actor: BacklogDesk, page: Page,
                 state: Annotated[Literal["waiting", "done", "expired", "discarded"] | None, Query()] = None
                 ) -> BacklogPage:
    rows = backlog.list_items(db=db, query=backlog.BacklogFilter(state=state, after_id=page.after_id,
                                                                 limit=page.limit))
    return BacklogPage(items=[BacklogOut.model_validate(r) for r in rows],
                       next_cursor=next_cursor(rows[-1].id if rows else None, returned=len(rows), limit=page.limit))


@router.post("/backlog/{backlog_id}/resolve", response_model=BacklogOut,
             summary="Retry a waiting or expired item whose parent has arrived, or discard it with a reason")
def resolve_backlog(backlog_id: DbId, body: BacklogResolveIn, db: DbSession, actor: BacklogDesk,
                    settings: AppSettings, now: Now) -> BacklogOut:
    return BacklogOut.model_validate(backlog.resolve(db=db, actor=actor, now=now, settings=settings,
                                                     backlog_id=backlog_id, action=body.action, note=body.note))


@router.get("/conflicts", response_model=ConflictPage,
            summary="Fields a device and the server both changed, with both values")
def list_conflicts(db: DbSession, _actor: ConflictDesk, page: Page,
                   state: Annotated[Literal["open", "resolved"] | None, Query()] = "open") -> ConflictPage:
    rows = conflicts.list_conflicts(db=db, state=state, after_id=page.after_id, limit=page.limit)
    return ConflictPage(items=[ConflictOut.model_validate(r) for r in rows],
                        next_cursor=next_cursor(rows[-1].id if rows else None, returned=len(rows), limit=page.limit))


@router.post("/conflicts/{conflict_id}/resolve", response_model=ConflictOut,
             summary="Keep the server's value, the device's, or another value; written through the task service")
def resolve_conflict(conflict_id: DbId, body: ConflictResolveIn, db: DbSession, actor: ConflictDesk,
                     now: Now) -> ConflictOut:
    return ConflictOut.model_validate(conflicts.resolve(db=db, actor=actor, now=now, conflict_id=conflict_id,
                                                        keep=body.keep, value=body.value))
