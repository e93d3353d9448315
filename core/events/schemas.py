"""The HTTP shapes of webhooks and work areas (pydantic, at the edge)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field


class WorkAreaIn(BaseModel):
    """A GeoJSON Polygon or MultiPolygon (EPSG:4326, or `?crs=`), or null to lift the limit."""

    area: dict[str, Any] | None = Field(description="GeoJSON (Multi)Polygon, or null")


class WorkAreaOut(BaseModel):
    user_id: int
    area: dict[str, Any] | None


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2000)
    event_types: list[Annotated[str, Field(min_length=1, max_length=80)]] = Field(
        default_factory=list, max_length=50,
        description="Event type prefixes such as 'finding.' or 'case.'; empty = all")
    area: dict[str, Any] | None = Field(default=None, description="GeoJSON (Multi)Polygon: only events inside it")
    description: str = Field(default="", max_length=500)


class WebhookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    event_types: list[str]
    description: str
    active: bool
    created_by: str
    created_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="The HMAC-SHA256 signing key; shown only in this answer")


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    event_id: int
    position: int
    entity_key: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None
