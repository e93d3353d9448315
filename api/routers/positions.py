"""Positions at /positions: a live app reports its GPS fix; dispatchers and supervisors see where
each inspector is (latest) and a track; an inspector sees only their own."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from api.dependencies import AppSettings, Claims, DbSession, Now, require
from core.bounds import DbId, IsoDateTime
from core.context import Actor
from inspections.sync import positions
from inspections.sync.permissions import POSITIONS_READ, POSITIONS_REPORT
from inspections.sync.schemas import PingIn, PositionOut

router = APIRouter(prefix="/positions", tags=["positions"])

Reporter = Annotated[Actor, Depends(require(POSITIONS_REPORT))]
Reader = Annotated[Actor, Depends(require(POSITIONS_READ))]


@router.post("", response_model=PositionOut, status_code=status.HTTP_201_CREATED,
             summary="Report the caller's position now (a live app online)")
def report_position(body: PingIn, db: DbSession, actor: Reporter, claims: Claims, settings: AppSettings,
                    now: Now) -> PositionOut:
    return PositionOut.model_validate(positions.report_position(
        db=db, actor=actor, settings=settings, device_id=claims.device_id, lon=body.lon, lat=body.lat,
        accuracy_m=body.accuracy_m, device_time=body.device_time, now=now))


@router.get("/latest", response_model=list[PositionOut],
            summary="The latest position of each inspector, with its age (inspectors: their own)")
def latest_positions(db: DbSession, actor: Reader, now: Now) -> list[PositionOut]:
    return [PositionOut.model_validate(p) for p in positions.latest_positions(db=db, actor=actor, now=now)]


@router.get("", response_model=list[PositionOut], summary="A user's track between two times, flagged pings marked")
def track(db: DbSession, actor: Reader, settings: AppSettings, now: Now,
          time_from: Annotated[IsoDateTime, Query(alias="from")], time_to: Annotated[IsoDateTime, Query(alias="to")],
          user: Annotated[DbId | None, Query(description="Whose track (inspectors: their own, the default)")] = None,
          ) -> list[PositionOut]:
    return [PositionOut.model_validate(p) for p in positions.track(
        db=db, actor=actor, settings=settings, now=now, user_id=user, time_from=time_from, time_to=time_to)]
