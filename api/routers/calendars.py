"""Working calendars at /calendars/{code}: everyone sees the holidays that deadlines count with;
administrators replace a calendar (If-Match) when the State Council publishes a new year."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Response

from api.dependencies import DbSession, ExpectedVersion, require
from api.http import etag
from cases import deadlines
from cases.permissions import CALENDARS_MANAGE, CASES_READ
from core.context import Actor

router = APIRouter(prefix="/calendars", tags=["calendars"])
Reader = Annotated[Actor, Depends(require(CASES_READ))]
Manager = Annotated[Actor, Depends(require(CALENDARS_MANAGE))]


def _answer(shown: deadlines.CalendarShown, response: Response) -> dict[str, Any]:
    response.headers["ETag"] = etag(shown.version)
    return shown.body


@router.get("/{code}", summary="A working calendar: holidays and make-up working days per year")
def get_calendar(code: str, db: DbSession, _actor: Reader, response: Response) -> dict[str, Any]:
    return _answer(deadlines.show_calendar(db=db, code=code), response)


@router.put("/{code}", summary="Replace a working calendar (If-Match); open cases' deadlines are recomputed")
def replace_calendar(code: str, db: DbSession, actor: Manager, expected_version: ExpectedVersion, response: Response,
                     document: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    return _answer(deadlines.replace_calendar(db=db, actor=actor, code=code, document=document,
                                              expected_version=expected_version), response)
