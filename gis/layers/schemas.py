"""What every layer's edge schemas share: the properties base a client writes, the PATCH form of
them, the list query parameters, and the GeoJSON Feature bodies."""

from __future__ import annotations

from typing import Any, ClassVar, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, create_model

from core.bounds import DbInt
from gis.geo.geojson_schema import GeoJSONGeometry


class LayerProps(BaseModel):
    model_config = ConfigDict(extra="forbid")

    external_id: str = Field(min_length=1, max_length=200, description="Key in the source system")


def partial(model: type[BaseModel]) -> type[BaseModel]:
    """The same fields, all optional: the body of a PATCH. Unknown fields are still rejected."""
    fields: dict[str, Any] = {name: (cast(Any, f.annotation) | None, Field(default=None, **_constraints(f)))
                              for name, f in model.model_fields.items()}
    return create_model(f"{model.__name__}Patch", __config__=ConfigDict(extra="forbid"), **fields)


def _constraints(field: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for meta in field.metadata:
        for key in ("gt", "ge", "lt", "le", "min_length", "max_length", "pattern"):
            value = getattr(meta, key, None)
            if value is not None:
                out[key] = value
    return out


class ListQuery(BaseModel):
    """Query parameters shared by every list; layer queries add their attribute filters."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    # Parameters that shape the query rather than compare one column; subclasses add theirs.
    not_column_filters: ClassVar[frozenset[str]] = frozenset({"bbox", "bbox_crs", "limit", "cursor"})

    bbox: str | None = Field(default=None, description="minx,miny,maxx,maxy in bbox-crs (default EPSG:4326)")
    bbox_crs: str | None = Field(default=None, alias="bbox-crs")
    limit: DbInt | None = Field(default=None, ge=1)
    cursor: str | None = None
    external_id: str | None = None

    def attribute_filters(self) -> dict[str, Any]:
        """Column = value filters for the given parameters."""
        return {k: v for k, v in self.model_dump(exclude=set(self.not_column_filters)).items() if v is not None}


class FeatureIn(BaseModel):
    """A GeoJSON Feature as sent by a client. Each layer subclasses it (`LayerSpec.feature_in`) with
    `properties` typed by the layer's own schema."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["Feature"]
    geometry: GeoJSONGeometry
    properties: LayerProps


class FeaturePatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["Feature"] = "Feature"
    geometry: GeoJSONGeometry | None = None
    properties: dict[str, Any] = {}
