"""What a device pushed and what became of it: one `sync_mutations` row per client-generated
mutation uuid (the idempotency record), the backlog of items waiting for their parent, and the
conflicts a dispatcher resolves.

A mutation is never deleted: its row is the exact record of what the device sent (its content
fingerprint) and what the server answered. Replays of the same uuid read the stored answer.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from core.models import Base


class SyncMutation(Base):
    """One pushed item. `status` is the item's current result (applied, merged, conflict, rejected,
    queued); a queued item moves on when the backlog applies it, and `result` follows."""

    __tablename__ = "sync_mutations"

    uuid: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    # The registered device that pushed it (`inspections.sync.devices`).
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    fingerprint: Mapped[str] = mapped_column(String(64))
    base_version: Mapped[int | None] = mapped_column(Integer)
    device_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    server_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # device_time - server_time in seconds: a device clock far off is flagged in the result.
    skew_s: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20))
    result: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # What the item created or changed (`field_task`, `finding`, `case`, ...), the audit log's reference.
    entity_type: Mapped[str | None] = mapped_column(String(60))
    entity_id: Mapped[str | None] = mapped_column(String(60))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SyncBacklogItem(Base):
    """An item whose parent (a task by uuid) the server has not seen yet. It is applied when the
    parent arrives (after each push and by the periodic backlog job); past the age limit it becomes
    `expired`, a dispatcher's to resolve (retry or discard with a reason), never silently dropped."""

    __tablename__ = "sync_backlog"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    mutation_uuid: Mapped[uuid.UUID] = mapped_column(ForeignKey("sync_mutations.uuid"), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The item as pushed (kind, base_version, device_time, data), replayed when the parent arrives.
    item: Mapped[dict[str, Any]] = mapped_column(JSONB)
    waiting_for_type: Mapped[str] = mapped_column(String(60))
    waiting_for_uuid: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # waiting | applied | expired | discarded
    state: Mapped[str] = mapped_column(String(20), index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution_note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_sync_backlog_waiting_parent", "waiting_for_uuid",
                            postgresql_where=text("state = 'waiting'")),)


class SyncConflict(Base):
    """A field a device changed that the server had also changed since the device's base version:
    both values are kept and neither overwrites the other until a dispatcher resolves it."""

    __tablename__ = "sync_conflicts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    mutation_uuid: Mapped[uuid.UUID] = mapped_column(ForeignKey("sync_mutations.uuid"), index=True)
    entity_type: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[int] = mapped_column(BigInteger)
    field: Mapped[str] = mapped_column(String(120))
    server_value: Mapped[Any] = mapped_column(JSONB, nullable=True)
    device_value: Mapped[Any] = mapped_column(JSONB, nullable=True)
    base_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # open | resolved
    state: Mapped[str] = mapped_column(String(20), index=True)
    # server | device | value
    kept: Mapped[str | None] = mapped_column(String(20))
    resolved_value: Mapped[Any] = mapped_column(JSONB, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
