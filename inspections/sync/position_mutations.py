"""Pushed GPS pings: stored for the live view with the batch's clock-skew measure (a ping pushed hours
after it was taken is not a wrong clock).

A device's offline day is mostly pings (one every few minutes), so a batch's pings are checked one by one
(a bad one is rejected alone) and stored in one statement (`positions.record_pings`), not item by item
through the per-item savepoints the other kinds need: a ping depends on nothing and nothing depends on it.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy.orm import Session

from core.context import Actor
from core.errors import GridWardenError, InvalidInput
from core.settings import Settings
from inspections.sync import positions
from inspections.sync.mutations import Change, ItemContext
from inspections.sync.push_schemas import PushItemIn

KIND = "gps_ping"


class PingData(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lon: float
    lat: float
    accuracy_m: float


def _checked(item: PushItemIn) -> positions.CheckedPing:
    try:
        data = PingData.model_validate(item.data)
    except ValidationError as exc:
        raise InvalidInput("The GPS ping's data is not valid.", errors=[
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]) from exc
    if item.device_time is None:
        raise InvalidInput("A GPS ping needs the device time it was taken at.",
                           errors=[{"field": "device_time", "message": "required for gps_ping"}])
    return positions.check_ping(positions.PingIn(data.lon, data.lat, data.accuracy_m, item.device_time))


def gps_ping(ctx: ItemContext) -> Change:
    """One ping on its own (the kinds' registry); a batch's pings go through `store_pings` instead."""
    item = PushItemIn(uuid=ctx.uuid, kind=ctx.kind, base_version=ctx.base_version, device_time=ctx.device_time,
                      data=ctx.data)
    stored, refused = store_pings(db=ctx.db, actor=ctx.actor, now=ctx.now, settings=ctx.settings, items=[item],
                                  device_id=ctx.device_id, skew_s=ctx.skew_s)
    if refused:
        raise refused[ctx.uuid]
    return Change(entity_type=KIND, entity_id=stored[ctx.uuid])


def store_pings(*, db: Session, actor: Actor, now: datetime, settings: Settings, items: list[PushItemIn],
                device_id: int, skew_s: float | None) -> tuple[dict[UUID, int], dict[UUID, GridWardenError]]:
    """Check each ping (a bad one is refused alone, with its reason) and store the rest in one statement:
    the stored pings' ids and the refused pings' errors, by item uuid."""
    refused: dict[UUID, GridWardenError] = {}
    good: list[tuple[UUID, positions.CheckedPing]] = []
    for item in items:
        try:
            good.append((item.uuid, _checked(item)))
        except GridWardenError as exc:
            refused[item.uuid] = exc
    ids = positions.record_pings(db=db, actor=actor, settings=settings, device_id=device_id,
                                 pings=[p for _, p in good], now=now, skew_s=skew_s or 0.0)
    return {u: ping_id for (u, _), ping_id in zip(good, ids, strict=True)}, refused
