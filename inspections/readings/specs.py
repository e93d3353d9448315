"""What a reader records for one meter: plain data (no pydantic), so that the API and the sync push
both hand `submit_reading` the same thing."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from core.fingerprint import json_fingerprint

VALUE_QUANTUM = Decimal("0.01")  # the precision meter values are stored at (models.METER_VALUE)


@dataclass(frozen=True)
class ReadingSpec:
    customer_id: int
    period: str  # the billing month, "2026-11"
    value: Decimal | None = None  # None only when the meter could not be read (locked door, lost, burnt)
    reason_code: str | None = None
    anomaly_code: str | None = None
    estimated: bool = False
    note: str = ""
    # The meter_reading or meter_reread task this was done under; by default the book's round of the period.
    task_id: int | None = None
    # The reading this one corrects: it is superseded, never overwritten.
    corrects_uuid: UUID | None = None

    def fingerprint(self) -> str:
        """What makes two submissions under one uuid the same: every field, the value at storage precision."""
        value = None if self.value is None else str(self.value.quantize(VALUE_QUANTUM))
        return json_fingerprint({"customer_id": self.customer_id, "period": self.period, "value": value,
                                 "reason_code": self.reason_code, "anomaly_code": self.anomaly_code,
                                 "estimated": self.estimated, "note": self.note, "task_id": self.task_id,
                                 "corrects_uuid": str(self.corrects_uuid) if self.corrects_uuid else None})
