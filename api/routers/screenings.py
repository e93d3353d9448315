"""Screening at /screenings: one geometry or a batch of up to `max_batch`, answered with findings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response, status
from shapely.geometry import mapping
from sqlalchemy.orm import Session

from api.dependencies import AppSettings, DbSession, IdempotencyKey, InputCrs, require
from core.bounds import DbId
from core.context import Actor
from core.fingerprint import request_fingerprint
from gis.rule_sets import service as rule_set_service
from gis.screening import service
from gis.screening.permissions import SCREENINGS_READ, SCREENINGS_RUN
from gis.screening.schemas import ScreeningBatchIn, ScreeningIn, ScreeningOut, screening_out

router = APIRouter(prefix="/screenings", tags=["screenings"])
NO_RULE_SET: dict[int | str, dict[str, Any]] = {404: {"description": "No rule set matches `rule_set` (or the date)"}}
Runner = Annotated[Actor, Depends(require(SCREENINGS_RUN))]
Reader = Annotated[Actor, Depends(require(SCREENINGS_READ))]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ScreeningOut,
             summary="Screen one geometry against protection zones and clearances", responses=NO_RULE_SET)
def screen_one(body: ScreeningIn, db: DbSession, actor: Runner, settings: AppSettings, crs: InputCrs,
               response: Response, idempotency_key: IdempotencyKey = None) -> ScreeningOut:
    fingerprint = request_fingerprint(operation="screening", epsg=crs, body=body)
    if idempotency_key and (earlier := service.previous_submission(db=db, actor=actor, idempotency_key=idempotency_key,
                                                                    fingerprint=fingerprint)):
        response.status_code = status.HTTP_200_OK
        return _stored(db, earlier[0].id)
    rule_set = rule_set_service.get_rule_set(db=db, reference=body.rule_set, on=body.on_date)
    item = service.validate_all(raws=[body.raw()], epsg=crs, rule_set=rule_set, limits=settings.screening)
    row = service.run(db=db, actor=actor, items=item, rule_set=rule_set, epsg=crs, limits=settings.screening,
                      on_date=body.on_date, idempotency_key=idempotency_key, idempotency_fingerprint=fingerprint)[0]
    return screening_out(row, rule_set, mapping(item[0].geometry))


@router.post("/batch", status_code=status.HTTP_201_CREATED, response_model=list[ScreeningOut],
             summary="Screen up to 1,000 geometries in one call (all validated first; none stored on error)",
             responses=NO_RULE_SET)
def screen_batch(body: ScreeningBatchIn, db: DbSession, actor: Runner, settings: AppSettings,
                 crs: InputCrs, response: Response, idempotency_key: IdempotencyKey = None) -> list[ScreeningOut]:
    fingerprint = request_fingerprint(operation="screening.batch", epsg=crs, body=body)
    if idempotency_key and (earlier := service.previous_submission(db=db, actor=actor, idempotency_key=idempotency_key,
                                                                    fingerprint=fingerprint)):
        response.status_code = status.HTTP_200_OK
        rule_set = rule_set_service.get_rule_set_by_id(db=db, rule_set_id=earlier[0].rule_set_id)
        return [screening_out(row, rule_set) for row in earlier]
    rule_set = rule_set_service.get_rule_set(db=db, reference=body.rule_set, on=body.on_date)
    items = service.validate_all(raws=[i.raw() for i in body.items], epsg=crs, rule_set=rule_set,
                                 limits=settings.screening, batch=True)
    rows = service.run(db=db, actor=actor, items=items, rule_set=rule_set, epsg=crs, limits=settings.screening,
                       on_date=body.on_date, batch=True, idempotency_key=idempotency_key,
                       idempotency_fingerprint=fingerprint)
    return [screening_out(row, rule_set) for row in rows]


def _stored(db: Session, screening_id: int) -> ScreeningOut:
    row, geometry = service.get_screening(db=db, screening_id=screening_id)
    return screening_out(row, rule_set_service.get_rule_set_by_id(db=db, rule_set_id=row.rule_set_id), geometry)


@router.get("/{screening_id:int}", response_model=ScreeningOut, summary="A stored screening, as it was made")
def get_one(screening_id: DbId, db: DbSession, _actor: Reader) -> ScreeningOut:
    return _stored(db, screening_id)
