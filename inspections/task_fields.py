"""A task's own fields, checked before they are stored: the place (a WKT in EPSG:4326 or an
asset's geometry), the due window, the priority, the title, the qualifications it needs. Both
creation (`TaskSpec`) and edits (`update_task`'s changes, which may come as JSON from a device)
pass through here, so a stored task always keeps its rules."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import shapely
from geoalchemy2.shape import from_shape
from shapely import wkt
from sqlalchemy.orm import Session

from core.bounds import column_length
from core.errors import InvalidInput
from inspections.assets import asset_geometry
from inspections.models import FieldTask
from inspections.qualifications import normalise
from inspections.specs import TaskSpec

PRIORITIES = range(1, 6)  # 1 most urgent .. 5 (the table's check constraint)
TITLE_MAX = column_length(FieldTask.title)
NOTES_MAX = 8000


def _fail(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}.", errors=[{"field": field, "message": message}])


def location_of(*, db: Session, location_wkt: str | None, asset_type: str | None, asset_id: int | None,
                field: str = "location") -> Any:
    """The stored geometry for a place given as WKT (EPSG:4326) or as an asset reference."""
    if (asset_type is None) != (asset_id is None):
        raise _fail("asset_id" if asset_id is None else "asset_type", "an asset is named by asset_type and asset_id")
    if location_wkt is not None:
        try:
            shape = wkt.loads(location_wkt)
        except shapely.errors.GEOSException as exc:
            raise _fail(field, "not a valid WKT geometry") from exc
        if shape.is_empty or not shape.is_valid:
            raise _fail(field, "an empty or invalid geometry")
        if asset_type is not None and asset_id is not None:
            asset_geometry(db=db, asset_type=asset_type, asset_id=asset_id)  # the reference must hold
        return from_shape(shape, srid=4326)
    if asset_type is None or asset_id is None:
        raise _fail(field, "a location or an asset is required")
    return asset_geometry(db=db, asset_type=asset_type, asset_id=asset_id)


def check_window(due_from: datetime, due_until: datetime) -> None:
    if due_from.tzinfo is None or due_until.tzinfo is None:
        raise _fail("due_from", "times need a UTC offset")
    if due_from > due_until:
        raise _fail("due_until", "the window ends before it starts")


def _priority(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in PRIORITIES:
        raise _fail("priority", f"must be a whole number from {PRIORITIES.start} to {PRIORITIES.stop - 1}")
    return value


def _text(field: str, value: Any, limit: int) -> str:
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        raise _fail(field, f"must be text of at most {limit} characters")
    return value


def _moment(field: str, value: Any) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError as exc:
            raise _fail(field, "must be an ISO 8601 date and time") from exc
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise _fail(field, "must be a date and time with a UTC offset")
    return value


def checked(*, db: Session, spec: TaskSpec) -> dict[str, Any]:
    """The column values of a new task, or 422 naming the first field that is wrong."""
    check_window(spec.due_from, spec.due_until)
    if spec.voltage_kv is not None and not 0 <= spec.voltage_kv <= 1000:
        raise _fail("voltage_kv", "must be from 0 to 1000 kV")
    if spec.parent_task_id is not None and db.get(FieldTask, spec.parent_task_id) is None:
        raise _fail("parent_task_id", "no such task")
    return {"task_type": spec.task_type.value, "title": _text("title", spec.title, TITLE_MAX),
            "notes": _text("notes", spec.notes, NOTES_MAX), "priority": _priority(spec.priority),
            "location": location_of(db=db, location_wkt=spec.location_wkt, asset_type=spec.asset_type,
                                    asset_id=spec.asset_id),
            "asset_type": spec.asset_type, "asset_id": spec.asset_id, "voltage_kv": spec.voltage_kv,
            "due_from": spec.due_from, "due_until": spec.due_until,
            "required_qualifications": normalise(spec.required_qualifications),
            "plan_id": spec.plan_id, "plan_due_on": spec.plan_due_on, "site_visit_id": spec.site_visit_id,
            "case_id": spec.case_id, "parent_task_id": spec.parent_task_id, "origin": dict(spec.origin)}


def edited(changes: Mapping[str, Any]) -> dict[str, Any]:
    """An edit's values as stored (ISO times parsed), or 422; which fields the editor may change is
    `inspections.access.editable_fields`."""
    parse = {"title": lambda v: _text("title", v, TITLE_MAX), "notes": lambda v: _text("notes", v, NOTES_MAX),
             "priority": _priority, "due_from": lambda v: _moment("due_from", v),
             "due_until": lambda v: _moment("due_until", v)}
    return {name: parse[name](value) for name, value in changes.items()}
