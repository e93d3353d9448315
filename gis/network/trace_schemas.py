from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.bounds import DbInt
from gis.network.topology import ElementType


class _IdOrKey(BaseModel):
    """A record named by database `id` or by its business key (`key_field`): exactly one of them."""

    model_config = ConfigDict(extra="forbid")
    key_field: ClassVar[str]

    id: DbInt | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> _IdOrKey:
        if (self.id is None) == (getattr(self, self.key_field) is None):
            raise ValueError(f"give exactly one of id or {self.key_field}")
        return self

    def lookup(self) -> tuple[str, int | str]:
        """(column name, value) to find the record by."""
        return ("id", self.id) if self.id is not None else (self.key_field, getattr(self, self.key_field))


class ElementRef(_IdOrKey):
    """A line, switch or transformer by database id or by source-system external id."""

    key_field: ClassVar[str] = "external_id"

    type: ElementType
    external_id: str | None = None


class CustomerRef(_IdOrKey):
    key_field: ClassVar[str] = "account_number"

    account_number: str | None = None


class TraceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    direction: Literal["downstream", "upstream"]
    element: ElementRef | None = Field(default=None, description="For downstream: a line, switch or transformer")
    customer: CustomerRef | None = Field(default=None, description="For upstream: the customer to trace")

    @model_validator(mode="after")
    def _matches_direction(self) -> TraceRequest:
        if self.direction == "downstream" and (self.element is None or self.customer is not None):
            raise ValueError("a downstream trace takes `element` (line, switch or transformer)")
        if self.direction == "upstream" and (self.customer is None or self.element is not None):
            raise ValueError("an upstream trace takes `customer`")
        return self


class AssetSummary(BaseModel):
    type: str
    id: int
    external_id: str
    name: str = ""


class TransformerSummary(AssetSummary):
    rated_kva: float
    customer_count: int


class CustomerSummary(BaseModel):
    id: int
    external_id: str
    account_number: str
    name: str
    category: str
    key_account: bool
    vulnerable: bool
    guaranteed_supply: bool
    transformer_id: int | None


class DownstreamTrace(BaseModel):
    direction: Literal["downstream"] = "downstream"
    element: AssetSummary
    element_open: bool = Field(description="An open switch carries no load, so nothing is downstream")
    meshed: bool = Field(description="Fed from both sides: taking it out cuts nobody off")
    node_count: int
    customer_count: int
    key_account_count: int
    vulnerable_count: int
    guaranteed_supply_count: int
    transformers: list[TransformerSummary]
    customers: list[CustomerSummary]


class FeedStepOut(BaseModel):
    type: str
    id: int
    external_id: str


class UpstreamTrace(BaseModel):
    direction: Literal["upstream"] = "upstream"
    customer: CustomerSummary
    transformer: AssetSummary | None = Field(description="The customer's supply transformer (台区)")
    substation: AssetSummary | None
    path: list[FeedStepOut] = Field(description="Edges from the customer up to the substation, in order")
