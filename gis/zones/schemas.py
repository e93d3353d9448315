"""Edge schemas for the zone layers: what a client may write and filter on."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from core.bounds import IsoDate
from gis.layers.schemas import LayerProps, ListQuery


class BuiltUpAreaProps(LayerProps):
    name: str = Field(default="", max_length=200)
    area_type: Literal["town", "village", "factory", "mine", "market_town", "other"] = "town"


class ManualZoneProps(LayerProps):
    name: str = Field(default="", max_length=200)
    zone_type: Literal["substation", "corridor", "protected_site", "other"] = "substation"
    authority: str = Field(min_length=1, max_length=200, description="Who designated the zone")
    reason: str = Field(min_length=1, max_length=1000)
    valid_from: IsoDate
    valid_to: IsoDate | None = Field(default=None, description="Last day in force; open-ended when empty")

    @model_validator(mode="after")
    def _period_in_order(self) -> ManualZoneProps:
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError("valid_to must not be before valid_from")
        return self


class BuiltUpAreaQuery(ListQuery):
    area_type: str | None = None


class ManualZoneQuery(ListQuery):
    zone_type: str | None = None
