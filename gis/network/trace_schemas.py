from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gis.network.topology import ElementType


class ElementRef(BaseModel):
    """An element by database id or by source-system external id."""

    model_config = ConfigDict(extra="forbid")

    type: ElementType
    id: int | None = None
    external_id: str | None = None

    @model_validator(mode="after")
    def _one_key(self) -> "ElementRef":
        if (self.id is None) == (self.external_id is None):
            raise ValueError("give exactly one of id or external_id")
        return self


class CustomerRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int | None = None
    account_number: str | None = None

    @model_validator(mode="after")
    def _one_key(self) -> "CustomerRef":
        if (self.id is None) == (self.account_number is None):
            raise ValueError("give exactly one of id or account_number")
        return self


class TraceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    direction: Literal["downstream", "upstream"]
    element: ElementRef | None = Field(default=None, description="For downstream: a line, switch or transformer")
    customer: CustomerRef | None = Field(default=None, description="For upstream: the customer to trace")

    @model_validator(mode="after")
    def _matches_direction(self) -> "TraceRequest":
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
