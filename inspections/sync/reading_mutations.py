"""Pushed meter readings, recorded by `inspections.readings.service.submit_reading` (validation,
anomaly follow-ups, audit). The item's uuid is the reading's uuid: the same reading pushed twice is
one reading. A reading done under a re-read task names the task by uuid, so it waits for that task
when the task has not reached the server yet."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from inspections.readings import service as reading_service
from inspections.readings.schemas import Code, Period
from inspections.readings.specs import ReadingSpec
from inspections.sync.mutations import Change, ItemContext, parse, task_id_for


class ReadingData(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: int = Field(ge=1)
    period: Period
    value: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)
    reason_code: Code | None = None
    anomaly_code: Code | None = None
    estimated: bool = False
    note: str = Field(default="", max_length=2000)
    task_uuid: UUID | None = Field(default=None, description="The re-read task this reading answers")
    corrects_uuid: UUID | None = None


def reading(ctx: ItemContext) -> Change:
    data = parse(ReadingData, ctx)
    task_id = task_id_for(ctx, data.task_uuid) if data.task_uuid else None
    spec = ReadingSpec(customer_id=data.customer_id, period=data.period, value=data.value,
                       reason_code=data.reason_code, anomaly_code=data.anomaly_code, estimated=data.estimated,
                       note=data.note, task_id=task_id, corrects_uuid=data.corrects_uuid)
    recorded, _created = reading_service.submit_reading(db=ctx.db, actor=ctx.actor, now=ctx.now, spec=spec,
                                                        reading_uuid=ctx.uuid, device_time=ctx.device_time)
    return Change(entity_type=reading_service.ENTITY, entity_id=recorded.id)
