"""Webhook subscriptions and their deliveries: one delivery row per event and subscription.

A delivery is the durable record of what was sent where and how it went (attempts, last answer),
so an administrator can see a receiver's failures and send a dead delivery again. Rows are history:
the application never deletes them (a deleted subscription is kept, its secret wiped).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from core.models import Base


class DeliveryState(StrEnum):
    pending = "pending"      # waiting for its first or next attempt (or for an earlier event of its entity)
    delivered = "delivered"  # the receiver answered 2xx
    dead = "dead"            # every attempt failed; sent again only by an administrator


class WebhookSubscription(Base):
    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    # Event type prefixes such as "finding." or "case.escalate_overdue"; empty = every event.
    event_types: Mapped[list[str]] = mapped_column(ARRAY(String(80)), default=list)
    # Only events located inside it (events without a location are always sent).
    area: Mapped[Any | None] = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), default=None)
    # The HMAC key the receiver verifies signatures with; shown once, wiped when the subscription is deleted.
    secret: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(500), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id"))
    event_id: Mapped[int] = mapped_column(ForeignKey("outbox_events.id"))
    # The event's position and entity: a delivery waits while an earlier one of its entity is pending.
    position: Mapped[int] = mapped_column(BigInteger)
    entity_key: Mapped[str] = mapped_column(String(130))
    state: Mapped[str] = mapped_column(String(20), default=DeliveryState.pending.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # A worker sending it holds it until then; a worker that died lets it go when the lease ends.
    leased_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    last_status: Mapped[int | None] = mapped_column(Integer, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)

    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id", name="uq_webhook_deliveries_subscription_event"),
        Index("ix_webhook_deliveries_pending", "subscription_id", "entity_key", "position",
              postgresql_where="state = 'pending'"),
        Index("ix_webhook_deliveries_due", "next_attempt_at", postgresql_where="state = 'pending'"),
    )
