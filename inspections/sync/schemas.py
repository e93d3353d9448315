"""What the devices, positions and pull APIs read and write (pydantic, at the edge)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.bounds import IsoDateTime
from core.users.schemas import PlainText


class DeviceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    device_id: Annotated[PlainText, Field(min_length=1, max_length=100,
                                          description="The app's own id for this device, stable across restarts")]
    name: Annotated[PlainText, Field(max_length=200)] = ""
    platform: Annotated[PlainText, Field(max_length=40)] = ""
    app_version: Annotated[PlainText, Field(max_length=40)] = ""


class DeviceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    client_device_id: str
    name: str
    platform: str
    app_version: str
    registered_at: datetime
    last_seen_at: datetime | None
    revoked_at: datetime | None
    revoked_by_id: int | None


class DeviceRegistered(BaseModel):
    device: DeviceOut
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds the device token is valid")


class PingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    accuracy_m: float = Field(ge=0, allow_inf_nan=False)
    device_time: IsoDateTime = Field(description="The device's clock when it took the fix, with its UTC offset")


class PositionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    user_id: int
    username: str
    device_id: int | None
    lon: float
    lat: float
    accuracy_m: float
    device_time: datetime
    server_time: datetime
    skew_s: float = Field(description="Seconds the device clock was ahead (+) or behind (-) the server's")
    skew_flagged: bool = Field(description="The device clock was off by more than the threshold")
    age_s: float = Field(description="Seconds since the server received it")


class PullItem(BaseModel):
    """An upsert (`op` "upsert", the record as the device should hold it) or a deletion (`op` "delete")."""

    op: Literal["upsert", "delete"]
    entity_type: str
    id: int
    version: str | None = Field(description="The record's fingerprint the device now holds; null for a deletion")
    data: dict[str, Any] | None = None


class PullPage(BaseModel):
    items: list[PullItem]
    cursor: str = Field(description="Send it back as `cursor` for the next page, or (when `has_more` is false) "
                                    "for the next pull; sending the same cursor again gets the same page again")
    has_more: bool
    counts: dict[str, int] = Field(description="Items of this page per entity type")
