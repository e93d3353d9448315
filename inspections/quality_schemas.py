"""Edge schemas of the auditor's random sample and grades."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from core.bounds import IsoDateTime
from inspections.quality import SEED_LIMIT, Sample


class SampleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reviewed_from: IsoDateTime = Field(description="Tasks reviewed (approved) at or after this moment...")
    reviewed_until: IsoDateTime = Field(description="...and before this one")
    share: float | None = Field(default=None, gt=0, le=1, description="Default: quality.json (10 %)")
    seed: int | None = Field(default=None, ge=0, le=SEED_LIMIT - 1, description="Repeat a draw; default: random")


class GradeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    defect_count: int = Field(ge=0, le=10_000)
    note: str | None = Field(default=None, max_length=4000)


class QualityAuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    task_id: int
    sample_id: str
    sampled_at: datetime
    defect_count: int | None
    grade: str | None
    graded_by_id: int | None
    graded_at: datetime | None
    note: str | None


class SampleOut(BaseModel):
    sample_id: str
    seed: int
    share: float
    candidates: int = Field(description="Tasks reviewed in the period and not sampled before")
    audits: list[QualityAuditOut]

    @classmethod
    def of(cls, sample: Sample) -> SampleOut:
        return cls(sample_id=sample.sample_id, seed=sample.seed, share=sample.share, candidates=sample.candidates,
                   audits=[QualityAuditOut.model_validate(a) for a in sample.audits])
