"""The console's live events (`GET /events`, server-sent events) and users' work areas, which
limit what each user's stream carries. Thin: one service call per operation."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import StreamingResponse

from api.dependencies import AppSettings, Claims, DbSession, InputCrs, InstalledDomains, Now, require
from core.context import Actor
from core.errors import InvalidInput
from core.events import service as event_service
from core.events.schemas import WorkAreaIn, WorkAreaOut
from core.events.settings import event_settings
from core.events.stream import EventHub
from core.permissions import EVENTS_READ, USERS_MANAGE
from gis.geo.geometry import GeometryLimits, parse_geometry

router = APIRouter(tags=["events"])
Watcher = Annotated[Actor, Depends(require(EVENTS_READ))]
UserAdmin = Annotated[Actor, Depends(require(USERS_MANAGE))]
UserId = Annotated[int, Path(ge=1, le=2**63 - 1)]
AREA_TYPES = frozenset({"Polygon", "MultiPolygon"})


async def event_hub(request: Request, settings: AppSettings) -> EventHub:
    """The poller of this process's event loop, made on first use."""
    hub: EventHub | None = getattr(request.app.state, "event_hub", None)
    if hub is None or hub.loop is not asyncio.get_running_loop():  # a test's second server has its own loop
        hub = request.app.state.event_hub = EventHub(request.app.state.session_factory, event_settings(settings))
    return hub


def _resume_point(last_event_id: str | None, after: int | None) -> int | None:
    """`Last-Event-ID` (what a reconnecting EventSource sends) wins over `?after=`."""
    if last_event_id is None:
        return after
    if not last_event_id.strip().isdigit() or len(last_event_id.strip()) > 18:
        raise InvalidInput("Last-Event-ID must be the id of an event this stream sent.",
                           errors=[{"field": "Last-Event-ID", "message": "not an event position"}])
    return int(last_event_id.strip())


@router.get("/events", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}},
                             "description": "`id:` position, `event:` type, `data:` the event as JSON"}})
def stream_events(db: DbSession, actor: Watcher, claims: Claims, now: Now, domains: InstalledDomains,
                  hub: Annotated[EventHub, Depends(event_hub)],
                  last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
                  after: Annotated[int | None, Query(ge=0, le=2**63 - 1, description=(
                      "Resume after this position (0: the whole retained history); without it or "
                      "Last-Event-ID the stream starts from now"))] = None,
                  types: Annotated[str | None, Query(max_length=2000, description=(
                      "Comma-separated event type prefixes, e.g. `finding.,case.`"))] = None) -> StreamingResponse:
    """Live events for the console, filtered by the caller's role and work area. Send the bearer
    token in `Authorization` (not in the URL); the stream ends when the token expires and the client
    reconnects with a fresh one and `Last-Event-ID`."""
    audience = event_service.audience(db=db, actor=actor, visibility=domains.event_visibility(), types=types)
    body = hub.stream(audience=audience, after=_resume_point(last_event_id, after),
                      open_for_s=(claims.expires_at - now).total_seconds())
    return StreamingResponse(body, media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.get("/users/{user_id}/work-area", response_model=WorkAreaOut, tags=["users"])
def get_work_area(user_id: UserId, db: DbSession, _actor: UserAdmin) -> WorkAreaOut:
    return WorkAreaOut(user_id=user_id, area=event_service.work_area(db=db, user_id=user_id))


@router.put("/users/{user_id}/work-area", response_model=WorkAreaOut, tags=["users"])
def set_work_area(user_id: UserId, body: WorkAreaIn, db: DbSession, actor: UserAdmin, crs: InputCrs,
                  settings: AppSettings) -> WorkAreaOut:
    """Where the user works: their event stream carries only events located inside it (events
    without a location still reach them). `{"area": null}` lifts the limit."""
    area = None if body.area is None else parse_geometry(
        body.area, epsg=crs, allowed_types=AREA_TYPES, field="area",
        limits=GeometryLimits(max_vertices=settings.api.max_geometry_vertices))
    stored = event_service.set_work_area(db=db, actor=actor, user_id=user_id, area=area,
                                         verbatim_vertices=settings.api.audit_geometry_verbatim_vertices)
    return WorkAreaOut(user_id=user_id, area=stored)
