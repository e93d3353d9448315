"""Pushed GPS pings: stored for the live view by `inspections.sync.positions.record_ping`, with the
batch's clock-skew measure (a ping pushed hours after it was taken is not a wrong clock)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from core.errors import InvalidInput
from inspections.sync import positions
from inspections.sync.mutations import Change, ItemContext, parse


class PingData(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lon: float
    lat: float
    accuracy_m: float


def gps_ping(ctx: ItemContext) -> Change:
    data = parse(PingData, ctx)
    if ctx.device_time is None:
        raise InvalidInput("A GPS ping needs the device time it was taken at.",
                           errors=[{"field": "device_time", "message": "required for gps_ping"}])
    ping = positions.record_ping(db=ctx.db, actor=ctx.actor, settings=ctx.settings, device_id=ctx.device_id,
                                 lon=data.lon, lat=data.lat, accuracy_m=data.accuracy_m,
                                 device_time=ctx.device_time, now=ctx.now, skew_s=ctx.skew_s)
    return Change(entity_type="gps_ping", entity_id=ping.id)
