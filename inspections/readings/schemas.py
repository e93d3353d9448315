"""The meter-reading API's bodies (pydantic, at the edge only; the service takes `ReadingSpec`)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.bounds import DbId, IsoDateTime, column_length
from inspections.readings.models import MeterReading
from inspections.readings.rules import PERIOD_PATTERN
from inspections.readings.specs import ReadingSpec

Period = Annotated[str, Field(min_length=7, max_length=column_length(MeterReading.period),
                              pattern=PERIOD_PATTERN.pattern, description="Billing month, YYYY-MM (1900-2999)",
                              examples=["2026-11"])]
Code = Annotated[str, Field(min_length=1, max_length=column_length(MeterReading.reason_code))]


class ReadingIn(BaseModel):
    """One meter visit as the reader's device records it."""

    model_config = ConfigDict(extra="forbid")

    uuid: UUID = Field(description="Generated on the device; sending it again is harmless")
    customer_id: DbId
    period: Period
    value: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2,
                                  description="kWh register; none when the meter could not be read")
    reason_code: Code | None = Field(default=None, description="Why consumption changed (GET /readings/codes lists them)")
    anomaly_code: Code | None = Field(default=None, description="Lost, burnt, stopped, backwards, creeping, "
                                                                "suspected theft, locked door")
    estimated: bool = False
    note: str = Field(default="", max_length=2000)
    task_id: DbId | None = Field(default=None, description="The re-read task this reading answers")
    corrects_uuid: UUID | None = Field(default=None, description="The reading this one corrects (superseded)")
    device_time: IsoDateTime | None = Field(default=None, description="The device's clock when it was read")

    @field_validator("device_time")
    @classmethod
    def _with_offset(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("must carry its UTC offset, e.g. 2026-11-20T09:30:00+08:00")
        return value

    def spec(self) -> ReadingSpec:
        return ReadingSpec(customer_id=self.customer_id, period=self.period, value=self.value,
                           reason_code=self.reason_code, anomaly_code=self.anomaly_code, estimated=self.estimated,
                           note=self.note, task_id=self.task_id, corrects_uuid=self.corrects_uuid)


class ReadingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    uuid: UUID
    customer_id: int
    book_id: int
    task_id: int | None
    period: str
    value: float | None
    status: str = Field(description="valid, not_read, or superseded (by superseded_by_id)")
    read_at: datetime
    device_time: datetime | None
    reader_id: int | None
    reason_code: str | None
    anomaly_code: str | None
    note: str
    estimated: bool
    previous_reading_id: int | None
    previous_value: float | None
    consumption: float | None
    supersedes_id: int | None
    superseded_by_id: int | None
    follow_up_task_id: int | None = Field(description="The fault visit, usage inspection or re-read it opened")


class ReadingPage(BaseModel):
    items: list[ReadingOut]
    next_cursor: str | None


class BookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    transformer_id: int
    name: str
    reader_id: int | None
    customer_count: int
    version: int
    rebuilt_at: datetime


class BookPage(BaseModel):
    items: list[BookOut]
    next_cursor: str | None


class BookCustomerOut(BaseModel):
    customer_id: int
    account_number: str
    meter_number: str
    position: int


class BookDetailOut(BookOut):
    customers: list[BookCustomerOut]


class RebuildOut(BaseModel):
    books_created: int
    customers_added: int
    customers_moved: int
    customers_removed: int
    books_with_customers: int


class ReaderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reader_id: DbId | None = Field(description="The inspector who reads this book; null takes it back")


class RoundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: Period


class RoundOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    book_id: int
    period: str
    task_id: int
    window_start: datetime
    window_end: datetime
