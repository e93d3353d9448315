"""Pull at /sync/pull: what an inspector's device should hold, page by page (see inspections.sync.pull)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from api.dependencies import AppSettings, CurrentDevice, DbSession, Now, decode_cursor, encode_cursor, require
from core.bounds import DbInt
from core.context import Actor
from inspections.sync import pull
from inspections.sync.permissions import SYNC_PULL
from inspections.sync.schemas import PullItem, PullPage

router = APIRouter(prefix="/sync", tags=["sync"])

Puller = Annotated[Actor, Depends(require(SYNC_PULL))]
CURSOR_KIND = "pull"


async def pull_position(cursor: Annotated[str | None, Query(description="The cursor of the previous answer; "
                                                                         "none for a full snapshot")] = None,
                        ) -> pull.Position | None:
    if cursor is None:
        return None
    device_id, generation, position = decode_cursor(cursor, kind=CURSOR_KIND, parts=3)
    return device_id, generation, position


PullPosition = Annotated[pull.Position | None, Depends(pull_position)]


@router.get("/pull", response_model=PullPage, summary="The device's tasks and what is around them, changed "
                                                       "since the cursor (none: a full snapshot)")
def pull_changes(db: DbSession, actor: Puller, device_id: CurrentDevice, settings: AppSettings, now: Now,
                 position: PullPosition,
                 limit: Annotated[DbInt | None, Query(ge=1, description="Items per page")] = None) -> Response:
    """Send the answer's `cursor` back for the next page (or, when `has_more` is false, keep it for the
    next pull); the same cursor again answers the same page again (an answer lost on the way)."""
    page = pull.pull_page(db=db, actor=actor, settings=settings, now=now, device_id=device_id, position=position,
                          limit=limit)
    body = PullPage(items=[PullItem(op=i.op, entity_type=i.entity_type, id=i.id, version=i.version, data=i.data)
                           for i in page.items],
                    cursor=encode_cursor(*page.position, kind=CURSOR_KIND), has_more=page.has_more, counts=page.counts)
    # Written once: returned as the model, FastAPI would validate the page's thousands of items again
    # against `response_model` before writing them (the schema above still documents the answer).
    return Response(content=body.model_dump_json(), media_type="application/json")
