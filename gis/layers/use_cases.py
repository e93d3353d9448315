"""A layer's features as the API offers them: one function per operation (read one, create,
change), each doing the whole operation and returning the feature as the caller may see it (the
layer's privacy rule applied). Lists and deletes are one service call already
(`service.list_features_for`, `service.delete_feature`).

Keyword-only functions, no HTTP; the caller's unit of work owns the transaction."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, get_args

from pydantic import ValidationError
from sqlalchemy.orm import Session

from core.context import Actor
from core.errors import InvalidInput
from core.settings import ApiSettings
from gis.layers import service
from gis.layers.schemas import FeatureIn, FeaturePatchIn
from gis.layers.service import FeatureRecord
from gis.layers.spec import LayerSpec


def _as_seen_by(*, db: Session, actor: Actor, layer: LayerSpec, record: FeatureRecord) -> FeatureRecord:
    """`record` as `actor` may see it: personal data masked or its disclosure audited (lists apply
    the same rule in SQL)."""
    if layer.privacy is None:
        return record
    properties = dict(record.properties)
    layer.privacy.apply(db, actor, [properties])
    return replace(record, properties=properties)


def read_feature(*, db: Session, actor: Actor, layer: LayerSpec, feature_id: int) -> FeatureRecord:
    record = service.get_feature(db=db, layer=layer, feature_id=feature_id)
    return _as_seen_by(db=db, actor=actor, layer=layer, record=record)


def create_feature(*, db: Session, actor: Actor, layer: LayerSpec, feature: FeatureIn, epsg: int,
                   settings: ApiSettings) -> FeatureRecord:
    """Validate the geometry in `epsg` against the layer, store the feature, show it to `actor`."""
    geometry = service.parse_feature_geometry(layer=layer, geojson=feature.geometry, epsg=epsg, settings=settings)
    record = service.create_feature(db=db, actor=actor, layer=layer, geometry=geometry,
                                    properties=feature.properties, settings=settings)
    return _as_seen_by(db=db, actor=actor, layer=layer, record=record)


def _invalid(exc: ValidationError, where: str) -> InvalidInput:
    errors = [{"field": f"{where}." + ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
    return InvalidInput("; ".join(f"{e['field']}: {e['message']}" for e in errors[:5]), errors=errors)


def _changes(layer: LayerSpec, properties: dict[str, Any]) -> dict[str, Any]:
    """The properties a patch sets, checked against the layer's schema; a required one cannot be emptied."""
    try:
        changes: dict[str, Any] = layer.patch.model_validate(properties).model_dump(exclude_unset=True)
    except ValidationError as exc:
        raise _invalid(exc, "properties") from exc
    nulls = [k for k, v in changes.items()
             if v is None and type(None) not in get_args(layer.props.model_fields[k].annotation)]
    if nulls:
        raise InvalidInput(f"These properties cannot be empty: {', '.join(nulls)}.",
                           errors=[{"field": f"properties.{k}", "message": "required"} for k in nulls])
    return changes


def update_feature(*, db: Session, actor: Actor, layer: LayerSpec, feature_id: int, expected_version: int,
                   patch: FeaturePatchIn, epsg: int, settings: ApiSettings) -> FeatureRecord:
    """Apply a partial change (properties and/or geometry) if `expected_version` is current."""
    changes = _changes(layer, patch.properties)
    geometry = (service.parse_feature_geometry(layer=layer, geojson=patch.geometry, epsg=epsg, settings=settings)
                if patch.geometry is not None else None)
    if not changes and geometry is None:
        raise InvalidInput("Nothing to change: send properties and/or geometry.")
    record = service.update_feature(db=db, actor=actor, layer=layer, feature_id=feature_id,
                                    expected_version=expected_version, geometry=geometry, changes=changes,
                                    settings=settings)
    return _as_seen_by(db=db, actor=actor, layer=layer, record=record)
