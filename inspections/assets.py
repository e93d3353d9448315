"""Where a task or finding is, when it names an asset instead of a place.

An asset is referred to as everywhere else (audit log, outbox): `(entity_type, id)`, where the
entity type is one of the published layers' (`substation`, `line`, `customer`...). The layer
catalogue knows each one's table, so this needs no list of its own."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import InvalidInput
from gis.layers.catalogue import managed_layers


def asset_types() -> list[str]:
    return sorted(layer.entity_type for layer in managed_layers())


def asset_geometry(*, db: Session, asset_type: str, asset_id: int, field: str = "asset_id") -> Any:
    """The stored geometry (EPSG:4326) of a live asset, or 422 naming what is wrong."""
    layer = next((layer for layer in managed_layers() if layer.entity_type == asset_type), None)
    if layer is None:
        raise InvalidInput(f"Unknown asset type {asset_type!r}; one of {', '.join(asset_types())}.",
                           errors=[{"field": "asset_type", "message": "unknown"}])
    model = layer.model
    geometry = db.scalar(select(layer.geometry).where(model.id == asset_id, model.deleted_at.is_(None)))
    if geometry is None:
        raise InvalidInput(f"No {asset_type} with id {asset_id} (or it was deleted).",
                           errors=[{"field": field, "message": "no such asset"}])
    return geometry
