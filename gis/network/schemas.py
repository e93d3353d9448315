"""Pydantic schemas for network layers and customers: the edge representation of each record.

Properties models are what a client may write; `*Query` models are the attribute filters a list
accepts (unknown query parameters are rejected, not ignored).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, create_model

from core.bounds import DbInt
from gis.geojson_schema import GeoJSONGeometry
from gis.network.models import Construction, PoleKind


class LayerProps(BaseModel):
    model_config = ConfigDict(extra="forbid")

    external_id: str = Field(min_length=1, max_length=200, description="Key in the source system")


class SubstationProps(LayerProps):
    name: str = Field(default="", max_length=200)
    nominal_kv: float | None = Field(default=None, gt=0, le=1200)
    subnet: str | None = Field(default=None, max_length=100)


class TransformerProps(LayerProps):
    name: str = Field(default="", max_length=200)
    type_name: str = Field(default="", max_length=200)
    rated_kva: float = Field(gt=0, le=2_000_000)
    hv_kv: float = Field(gt=0, le=1200)
    lv_kv: float = Field(gt=0, le=1200)
    subnet: str | None = Field(default=None, max_length=100)


# Upper bounds a line may record; the screening engine's search margin is derived from them, so no
# line's outer conductor or wind swing can reach beyond what a screening searches.
MAX_CONDUCTOR_SPREAD_M = 60.0
MAX_WIND_SWING_M = 30.0


class LineProps(LayerProps):
    name: str = Field(default="", max_length=200)
    construction: Construction
    nominal_kv: float = Field(gt=0, le=1200)
    conductor_type: str = Field(default="", max_length=200)
    conductor_spread_m: float | None = Field(default=None, ge=0, le=MAX_CONDUCTOR_SPREAD_M,
                                             description="Outermost-conductor spread (overhead lines)")
    wind_swing_m: float | None = Field(default=None, ge=0, le=MAX_WIND_SWING_M,
                                       description="Conductor swing at maximum wind (overhead); default per voltage")
    feeder: str | None = Field(default=None, max_length=100)
    subnet: str | None = Field(default=None, max_length=100)


class PoleProps(LayerProps):
    kind: PoleKind
    nominal_kv: float = Field(gt=0, le=1200)
    subnet: str | None = Field(default=None, max_length=100)


class SwitchProps(LayerProps):
    name: str = Field(default="", max_length=200)
    switch_type: str = Field(default="", max_length=40)
    normally_open: bool = False
    is_open: bool = False
    nominal_kv: float | None = Field(default=None, gt=0, le=1200)
    subnet: str | None = Field(default=None, max_length=100)


class CustomerProps(LayerProps):
    account_number: str = Field(min_length=1, max_length=60)
    meter_number: str = Field(default="", max_length=60)
    name: str = Field(default="", max_length=200)
    address: str = Field(default="", max_length=300)
    category: Literal["residential", "commercial", "industrial", "agricultural", "government", "school",
                      "other"] = "residential"
    key_account: bool = False
    vulnerable: bool = False
    guaranteed_supply: bool = False
    contracted_load_kw: float = Field(default=0.0, ge=0, le=1_000_000)
    contact_phone: str | None = Field(default=None, max_length=40, pattern=r"^[0-9+()\- ]{3,40}$")
    transformer_id: DbInt | None = Field(default=None, description="The feeding distribution transformer (台区)")


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


class SubstationQuery(ListQuery):
    subnet: str | None = None


class TransformerQuery(ListQuery):
    subnet: str | None = None
    substation_id: DbInt | None = None
    lv_kv: float | None = None


class LineQuery(ListQuery):
    construction: Construction | None = None
    nominal_kv: float | None = None
    feeder: str | None = None
    subnet: str | None = None


class PoleQuery(ListQuery):
    kind: PoleKind | None = None
    nominal_kv: float | None = None


class SwitchQuery(ListQuery):
    is_open: bool | None = None
    normally_open: bool | None = None
    switch_type: str | None = None
    subnet: str | None = None


class CustomerQuery(ListQuery):
    not_column_filters: ClassVar[frozenset[str]] = ListQuery.not_column_filters | {"near", "within_m"}

    category: str | None = None
    key_account: bool | None = None
    vulnerable: bool | None = None
    guaranteed_supply: bool | None = None
    transformer_id: DbInt | None = None
    account_number: str | None = None
    meter_number: str | None = None
    subnet: str | None = None
    near: str | None = Field(default=None, description="lon,lat (EPSG:4326): only customers within `within_m`")
    within_m: float | None = Field(default=None, gt=0, le=50_000, description="Radius in metres for `near`")


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
