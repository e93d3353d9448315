"""Screening at /screenings: one geometry or a batch of up to `max_batch`, answered with findings.
Thin: each operation is one call into `gis.screening.use_cases`; this module only sets the status."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response, status

from api.dependencies import AppSettings, DbSession, IdempotencyKey, InputCrs, require
from api.http import submitted
from core.bounds import DbId
from core.context import Actor
from gis.screening import use_cases
from gis.screening.permissions import SCREENINGS_READ, SCREENINGS_RUN
from gis.screening.schemas import ScreeningBatchIn, ScreeningIn, ScreeningOut
from gis.screening.settings import screening_settings

router = APIRouter(prefix="/screenings", tags=["screenings"])
NO_RULE_SET: dict[int | str, dict[str, Any]] = {404: {"description": "No rule set matches `rule_set` (or the date)"}}
Runner = Annotated[Actor, Depends(require(SCREENINGS_RUN))]
Reader = Annotated[Actor, Depends(require(SCREENINGS_READ))]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ScreeningOut,
             summary="Screen one geometry against protection zones and clearances", responses=NO_RULE_SET)
def screen_one(body: ScreeningIn, db: DbSession, actor: Runner, settings: AppSettings, crs: InputCrs,
               response: Response, idempotency_key: IdempotencyKey = None) -> ScreeningOut:
    return submitted(use_cases.screen(db=db, actor=actor, body=body, epsg=crs, limits=screening_settings(settings),
                                    idempotency_key=idempotency_key), response)


@router.post("/batch", status_code=status.HTTP_201_CREATED, response_model=list[ScreeningOut],
             summary="Screen up to 1,000 geometries in one call (all validated first; none stored on error)",
             responses=NO_RULE_SET)
def screen_batch(body: ScreeningBatchIn, db: DbSession, actor: Runner, settings: AppSettings,
                 crs: InputCrs, response: Response, idempotency_key: IdempotencyKey = None) -> list[ScreeningOut]:
    return submitted(use_cases.screen_batch(db=db, actor=actor, body=body, epsg=crs, limits=screening_settings(settings),
                                          idempotency_key=idempotency_key), response)


@router.get("/{screening_id:int}", response_model=ScreeningOut, summary="A stored screening, as it was made")
def get_one(screening_id: DbId, db: DbSession, _actor: Reader) -> ScreeningOut:
    return use_cases.get_screening_out(db=db, screening_id=screening_id)
