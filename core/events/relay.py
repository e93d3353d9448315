"""The relay: publishes committed outbox events in a gap-free order and fans them out to webhooks.

Why not read the outbox by id with an xid horizon (`txid < pg_snapshot_xmin(...)`): ids and
transaction ids are taken at different moments. Transaction B can get its xid first, A its xid
second, then A take id 11 and B id 12; B commits while A is open, and B's xid is below the horizon
(the oldest open transaction is A) while A's id 11 is not yet visible. A reader past 12 never sees 11.

Instead one transaction at a time (an advisory lock) numbers every *committed* unpublished event,
in id order, after the highest position so far. Each numbering transaction commits before the next
starts, so at any moment the numbered events are a prefix without holes: a reader resuming after
position N misses nothing and repeats nothing. An event committed late simply gets a later
position. Per entity, order is kept: two changes of one entity are serialised by the entity's row
lock, so the later one's event is inserted (and committed) after the earlier one's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, and_, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from core.events.models import DeliveryState, WebhookDelivery, WebhookSubscription
from core.outbox import OutboxEvent

PUBLISH_LOCK = "gridwarden:outbox-publish"
FAN_OUT_LOCK = "gridwarden:outbox-fan-out"


def publish(*, db: Session, now: datetime, limit: int) -> int:
    """Number up to `limit` committed, unpublished events; returns how many. Does nothing (0) when
    another process is numbering right now: it publishes them, and the caller reads them next time."""
    if not db.scalar(select(func.pg_try_advisory_xact_lock(func.hashtextextended(PUBLISH_LOCK, 0)))):
        return 0
    top = select(func.coalesce(func.max(OutboxEvent.position), 0)).scalar_subquery()
    pending = (select(OutboxEvent.id, func.row_number().over(order_by=OutboxEvent.id).label("n"))
               .where(OutboxEvent.published_at.is_(None)).order_by(OutboxEvent.id).limit(limit).cte("pending"))
    result = db.execute(update(OutboxEvent).where(OutboxEvent.id == pending.c.id)
                        .values(position=top + pending.c.n, published_at=now)
                        .execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _matches(subscription: type[WebhookSubscription], event: type[OutboxEvent]) -> ColumnElement[bool]:
    """SQL: the subscription wants this event (a type prefix matches; inside its area, if both have one)."""
    prefix = func.unnest(subscription.event_types).table_valued("prefix").render_derived()
    wanted_type = or_(func.cardinality(subscription.event_types) == 0,
                      select(literal(1)).select_from(prefix)
                      .where(func.starts_with(event.event_type, prefix.c.prefix)).exists())
    inside = or_(subscription.area.is_(None), event.location.is_(None),
                 func.ST_Intersects(subscription.area, event.location))
    return and_(subscription.active.is_(True), subscription.deleted_at.is_(None), wanted_type, inside)


@dataclass(frozen=True)
class FanOut:
    events: int  # events relayed
    deliveries: int  # deliveries created for them


def fan_out(*, db: Session, now: datetime, limit: int) -> FanOut:
    """Create one pending delivery per published event and matching subscription, for up to
    `limit` events in position order, and mark the events relayed.

    One relay at a time (a transaction-scoped advisory lock; a second waits): were two to run side
    by side, the later events' deliveries could commit, and be sent, before an earlier event's
    delivery of the same entity exists to hold them back."""
    db.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(FAN_OUT_LOCK, 0))))
    events = db.scalars(select(OutboxEvent.id)
                        .where(OutboxEvent.position.is_not(None), OutboxEvent.relayed_at.is_(None))
                        .order_by(OutboxEvent.position).limit(limit)).all()
    if not events:
        return FanOut(events=0, deliveries=0)
    rows = (select(WebhookSubscription.id, OutboxEvent.id, OutboxEvent.position,
                   OutboxEvent.entity_type + ":" + OutboxEvent.entity_id, literal(DeliveryState.pending.value),
                   literal(0, Integer), literal(now), literal(now))
            .select_from(OutboxEvent).join(WebhookSubscription, _matches(WebhookSubscription, OutboxEvent))
            .where(OutboxEvent.id.in_(events)))
    created = db.execute(insert(WebhookDelivery).from_select(
        ["subscription_id", "event_id", "position", "entity_key", "state", "attempts", "next_attempt_at",
         "created_at"], rows).returning(WebhookDelivery.id)).all()
    db.execute(update(OutboxEvent).where(OutboxEvent.id.in_(events)).values(relayed_at=now)
               .execution_options(synchronize_session=False))
    return FanOut(events=len(events), deliveries=len(created))
