"""Writing and reading the audit log.

`record` is called by every service that changes data, inside the caller's unit of work, so the
change and its audit record commit together. Snapshots are plain JSON-able dicts chosen by each
domain (e.g. users never include the password hash).

Geometries in snapshots are bounded here, in one place: the audit log is append-only (nothing may
ever delete from it), so a 50,000-vertex outline must not be copied into it on every edit. A
geometry with more vertices than the caller's verbatim limit is recorded as its type, vertex
count, bbox and the SHA-256 of its canonical GeoJSON (`geometry_digest`), which identifies the
exact geometry that was stored without keeping it twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.models import AuditRecord
from core.audit.schemas import AuditRecordOut
from core.context import Actor, current_request_id
from core.permissions import Role


def record(
    *,
    db: Session,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: int | str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    reason: str | None = None,
    geometry_verbatim_vertices: int = 0,
) -> AuditRecord:
    """Append one record. GeoJSON geometries among the snapshots' top-level values are kept whole up
    to `geometry_verbatim_vertices` vertices (a setting the caller passes) and summarised above."""
    before = bound_geometries(before, verbatim_vertices=geometry_verbatim_vertices)
    after = bound_geometries(after, verbatim_vertices=geometry_verbatim_vertices)
    entry = AuditRecord(
        actor_id=actor.user_id,
        actor_name=actor.username,
        actor_role=str(actor.role),
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        before=before,
        after=after,
        request_id=current_request_id(),
        reason=reason,
    )
    db.add(entry)
    return entry


GEOMETRY_TYPES = frozenset({"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"})


def _positions(coordinates: Any) -> list[list[float]]:
    """Every position of a GeoJSON coordinates array, however deeply nested."""
    if isinstance(coordinates, list) and coordinates and isinstance(coordinates[0], int | float):
        return [coordinates]
    if isinstance(coordinates, list):
        return [p for part in coordinates for p in _positions(part)]
    return []


def is_geojson_geometry(value: Any) -> bool:
    return isinstance(value, dict) and value.get("type") in GEOMETRY_TYPES and "coordinates" in value


def canonical_geojson(geometry: dict[str, Any]) -> bytes:
    """The geometry as compact JSON with sorted keys: the same geometry always gives the same bytes."""
    return json.dumps(geometry, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def geometry_digest(geometry: dict[str, Any]) -> dict[str, Any]:
    """A bounded stand-in for a geometry: type, vertex count, bbox and SHA-256 of `canonical_geojson`
    (verify it by hashing the geometry the API returns for that version)."""
    positions = _positions(geometry["coordinates"])
    xs = [p[0] for p in positions]
    ys = [p[1] for p in positions]
    return {"type": geometry["type"], "summarised": True, "vertices": len(positions),
            "bbox": [min(xs), min(ys), max(xs), max(ys)] if positions else None,
            "sha256": hashlib.sha256(canonical_geojson(geometry)).hexdigest()}


def bound_geometries(snapshot: dict[str, Any] | None, *, verbatim_vertices: int) -> dict[str, Any] | None:
    """The snapshot with every geometry over `verbatim_vertices` vertices replaced by its digest."""
    if snapshot is None:
        return None
    return {key: geometry_digest(value)
            if is_geojson_geometry(value) and len(_positions(value["coordinates"])) > verbatim_vertices else value
            for key, value in snapshot.items()}


@dataclass(frozen=True)
class AuditQuery:
    entity_type: str | None = None
    entity_id: str | None = None
    actor_name: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    after_id: int | None = None
    limit: int = 100


def search(*, db: Session, query: AuditQuery) -> list[AuditRecord]:
    """Newest first, keyset-paginated by id so pages stay stable while records are appended."""
    stmt = select(AuditRecord)
    if query.entity_type:
        stmt = stmt.where(AuditRecord.entity_type == query.entity_type)
    if query.entity_id:
        stmt = stmt.where(AuditRecord.entity_id == query.entity_id)
    if query.actor_name:
        stmt = stmt.where(AuditRecord.actor_name == query.actor_name)
    if query.since:
        stmt = stmt.where(AuditRecord.occurred_at >= query.since)
    if query.until:
        stmt = stmt.where(AuditRecord.occurred_at < query.until)
    if query.after_id is not None:
        stmt = stmt.where(AuditRecord.id < query.after_id)
    return list(db.scalars(stmt.order_by(AuditRecord.id.desc()).limit(query.limit)))


Redaction = Callable[[dict[str, Any], Role], None]


def read_log(*, db: Session, actor: Actor, query: AuditQuery, redactions: Sequence[Redaction]) -> list[AuditRecordOut]:
    """A page of the log as `actor` may read it. History keeps the real values; each domain masks
    its personal data (`Domain.audit_redactions`) in what a reader whose role may not see it gets."""
    items = [AuditRecordOut.model_validate(record) for record in search(db=db, query=query)]
    for item in items:
        for snapshot in (item.before, item.after):
            if snapshot is not None:
                for redact in redactions:
                    redact(snapshot, actor.role)
    return items
