"""Working calendars at /calendars/{code}: everyone sees the holidays that deadlines count with;
administrators replace a calendar (If-Match) when the State Council publishes a new year."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Response

from api.dependencies import DbSession, ExpectedVersion, require
from cases import deadlines
from cases.models import WorkingCalendarRecord
from cases.permissions import CALENDARS_MANAGE, CASES_READ
from core.context import Actor

router = APIRouter(prefix="/calendars", tags=["calendars"])
Reader = Annotated[Actor, Depends(require(CASES_READ))]
Manager = Annotated[Actor, Depends(require(CALENDARS_MANAGE))]


def _out(db: Any, record: WorkingCalendarRecord, response: Response, moved: int | None = None) -> dict[str, Any]:
    calendar = deadlines.working_calendar(db, record.code)
    response.headers["ETag"] = f'"{record.version}"'
    body: dict[str, Any] = {
        "code": record.code, "version": record.version, "sha256": record.sha256,
        "updated_at": record.updated_at.isoformat() if record.updated_at else None, "updated_by": record.updated_by,
        "covered_years": sorted(calendar.covered_years), "unverified_years": sorted(calendar.unverified_years),
        "document": record.document}
    if moved is not None:
        body["deadlines_moved"] = moved
    return body


@router.get("/{code}", summary="A working calendar: holidays and make-up working days per year")
def get_calendar(code: str, db: DbSession, _actor: Reader, response: Response) -> dict[str, Any]:
    return _out(db, deadlines.calendar_record(db=db, code=code), response)


@router.put("/{code}", summary="Replace a working calendar (If-Match); open cases' deadlines are recomputed")
def replace_calendar(code: str, db: DbSession, actor: Manager, expected_version: ExpectedVersion, response: Response,
                     document: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    record, moved = deadlines.replace_calendar(db=db, actor=actor, code=code, document=document,
                                               expected_version=expected_version)
    return _out(db, record, response, moved)
