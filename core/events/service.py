"""Who receives which events: the audience of a console stream, and users' work areas."""

from __future__ import annotations

from typing import Any

from geoalchemy2.shape import from_shape, to_shape
from shapely import prepare
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from core.audit import service as audit_service
from core.context import Actor
from core.errors import InvalidInput, NotFound
from core.events.feed import Audience
from core.permissions import Permission
from core.users.models import User

MAX_TYPE_PREFIXES = 20
MAX_PREFIX_LENGTH = 80


def type_prefixes(types: str | None) -> tuple[str, ...]:
    """`finding.,case.escalate_overdue` -> the prefixes; empty means every type."""
    if not types:
        return ()
    prefixes = tuple(sorted({item.strip() for item in types.split(",") if item.strip()}))
    if len(prefixes) > MAX_TYPE_PREFIXES or any(len(p) > MAX_PREFIX_LENGTH for p in prefixes):
        raise InvalidInput(f"types takes at most {MAX_TYPE_PREFIXES} prefixes of at most {MAX_PREFIX_LENGTH} "
                           "characters, comma-separated.", errors=[{"field": "types", "message": "too many or too long"}])
    return prefixes


def _work_area(db: Session, user_id: int | None) -> BaseGeometry | None:
    user = db.get(User, user_id) if user_id is not None else None
    if user is None or user.work_area is None:
        return None
    area = to_shape(user.work_area)
    prepare(area)  # every event is tested against it
    return area


def audience(*, db: Session, actor: Actor, visibility: dict[str, Permission], types: str | None) -> Audience:
    """What this user's console stream may carry: by role, within their work area, of these types."""
    return Audience(role=actor.role, visibility=visibility, area=_work_area(db, actor.user_id),
                    type_prefixes=type_prefixes(types))


def _area_json(user: User) -> dict[str, Any] | None:
    return to_shape(user.work_area).__geo_interface__ if user.work_area is not None else None


def set_work_area(*, db: Session, actor: Actor, user_id: int, area: BaseGeometry | None,
                  verbatim_vertices: int) -> dict[str, Any] | None:
    """Set (or with None, lift) where a user works; their event stream then carries only events
    located inside it. Audited with the area before and after. Returns the stored area (GeoJSON)."""
    user = db.get(User, user_id, with_for_update=True)
    if user is None:
        raise NotFound(f"No user {user_id}.")
    if isinstance(area, Polygon):
        area = MultiPolygon([area])
    before = {"work_area": _area_json(user)}
    user.work_area = from_shape(area, srid=4326) if area is not None else None
    db.flush()
    audit_service.record(db=db, actor=actor, action="user.set_work_area", entity_type="user", entity_id=user.id,
                         before=before, after={"work_area": area.__geo_interface__ if area is not None else None},
                         geometry_verbatim_vertices=verbatim_vertices)
    return _area_json(user)


def work_area(*, db: Session, user_id: int) -> dict[str, Any] | None:
    user = db.get(User, user_id)
    if user is None:
        raise NotFound(f"No user {user_id}.")
    return _area_json(user)
