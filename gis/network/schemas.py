"""Pydantic schemas for the network layers: the edge representation of each record.

Properties models are what a client may write; `*Query` models are the attribute filters a list
accepts (unknown query parameters are rejected, not ignored).
"""

from __future__ import annotations

from pydantic import Field

from core.bounds import DbInt
from gis.layers.schemas import LayerProps, ListQuery
from gis.network.models import Construction, PoleKind


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
# The tallest lowest-conductor height a line may record (a long river crossing hangs far higher
# than any line's span elsewhere).
MAX_GROUND_CLEARANCE_M = 300.0


class LineProps(LayerProps):
    name: str = Field(default="", max_length=200)
    construction: Construction
    nominal_kv: float = Field(gt=0, le=1200)
    conductor_type: str = Field(default="", max_length=200)
    conductor_spread_m: float | None = Field(default=None, ge=0, le=MAX_CONDUCTOR_SPREAD_M,
                                             description="Outermost-conductor spread (overhead lines)")
    wind_swing_m: float | None = Field(default=None, ge=0, le=MAX_WIND_SWING_M,
                                       description="Conductor swing at maximum wind (overhead); default per voltage")
    min_ground_clearance_m: float | None = Field(
        default=None, gt=0, le=MAX_GROUND_CLEARANCE_M,
        description="Lowest conductor height above ground at maximum sag (overhead); default per voltage")
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
