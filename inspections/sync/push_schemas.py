"""The push protocol at the edge: a batch of items, and one result per item.

An item's `data` is checked per kind by `inspections.sync.mutations` (a bad item is rejected on its
own; the batch goes on). Only a batch that is not a batch at all (no uuid, not JSON) is a 422."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

INT32_MAX = 2**31 - 1  # versions are 32-bit integer columns (field_tasks.version, sync_mutations.base_version)
ItemStatus = Literal["applied", "merged", "conflict", "rejected", "queued", "expired", "duplicate"]


class PushItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    uuid: UUID = Field(description="Generated on the device; the same uuid sent again is the same mutation")
    kind: str = Field(max_length=40, description="task_action, task_update, answers, finding, reading, "
                                                 "encroachment_report, gps_ping, task_create")
    base_version: int | None = Field(default=None, ge=0, le=INT32_MAX,
                                     description="The version the device edited (updates)")
    device_time: AwareDatetime | None = Field(default=None, description="When the device made the change")
    data: dict[str, Any] = Field(default_factory=dict)


class PushIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    device_time: AwareDatetime = Field(description="The device's clock when it sent the batch (skew check)")
    items: list[PushItemIn]


class ItemProblem(BaseModel):
    """Why an item was rejected, as a problem+json would say it."""

    title: str
    status: int
    detail: str
    errors: list[dict[str, Any]] = Field(default_factory=list)


class ItemResult(BaseModel):
    """What became of one item. `duplicate` carries the original result in `original`."""

    uuid: UUID
    kind: str
    status: ItemStatus
    entity_type: str | None = None
    entity_id: str | None = None
    version: int | None = None
    applied: list[str] = Field(default_factory=list, description="Fields written (updates, answers)")
    conflicts: list[int] = Field(default_factory=list, description="sync_conflicts ids kept for a dispatcher")
    waiting_for: dict[str, str] | None = Field(default=None, description="queued: the parent it waits for")
    problem: ItemProblem | None = None
    clock_skew_s: float | None = None
    clock_skew_flagged: bool = False
    original: ItemResult | None = None


class PushOut(BaseModel):
    server_time: datetime
    results: list[ItemResult]


class MutationsOut(BaseModel):
    items: list[ItemResult]


class BacklogOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    mutation_uuid: UUID
    user_id: int
    item: dict[str, Any]
    waiting_for_type: str
    waiting_for_uuid: UUID
    since: datetime
    attempts: int
    state: Literal["waiting", "done", "expired", "discarded"]
    resolved_at: datetime | None
    resolved_by_id: int | None
    resolution_note: str | None


class BacklogPage(BaseModel):
    items: list[BacklogOut]
    next_cursor: str | None


class BacklogResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["retry", "discard"]
    note: str | None = Field(default=None, max_length=2000, description="Required to discard: the inspector is told")


class ConflictOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    mutation_uuid: UUID
    entity_type: str
    entity_id: int
    field: str
    server_value: Any
    device_value: Any
    base_version: int
    created_at: datetime
    state: Literal["open", "resolved"]
    kept: Literal["server", "device", "value"] | None
    resolved_value: Any
    resolved_at: datetime | None
    resolved_by_id: int | None


class ConflictPage(BaseModel):
    items: list[ConflictOut]
    next_cursor: str | None


class ConflictResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keep: Literal["server", "device", "value"]
    value: Any = Field(default=None, description="keep=value: the value to write instead of either")
