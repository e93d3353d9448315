"""Edge schemas for the customers layer: what a client may write and filter on."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from core.bounds import DbInt
from gis.layers.schemas import LayerProps, ListQuery


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
