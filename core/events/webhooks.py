"""Webhook subscriptions, managed by administrators: create (the secret is shown once), list,
disable and enable, delete, and a dead delivery sent again. Every change is audited; keyword-only
functions, no HTTP, no commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import service as audit_service
from core.context import Actor
from core.errors import Conflict, NotFound
from core.events.models import DeliveryState, WebhookDelivery, WebhookSubscription
from core.events.settings import EventSettings
from core.events.signing import check_target, new_secret

ENTITY = "webhook_subscription"


@dataclass(frozen=True)
class SubscriptionSpec:
    url: str
    event_types: tuple[str, ...] = ()
    area: BaseGeometry | None = None  # a (Multi)Polygon in EPSG:4326
    description: str = ""


def _snapshot(subscription: WebhookSubscription) -> dict[str, Any]:
    """What the audit log keeps: everything but the secret."""
    return {"url": subscription.url, "event_types": list(subscription.event_types), "active": subscription.active,
            "has_area": subscription.area is not None, "description": subscription.description,
            "deleted": subscription.deleted_at is not None}


def create(*, db: Session, actor: Actor, spec: SubscriptionSpec, settings: EventSettings) -> WebhookSubscription:
    check_target(spec.url, allow_private=settings.allow_private_webhook_targets)
    area = spec.area
    if isinstance(area, Polygon):
        area = MultiPolygon([area])
    subscription = WebhookSubscription(url=spec.url, event_types=sorted(set(spec.event_types)),
                                       area=from_shape(area, srid=4326) if area is not None else None,
                                       secret=new_secret(), description=spec.description, active=True,
                                       created_by=actor.username)
    db.add(subscription)
    db.flush()
    audit_service.record(db=db, actor=actor, action="webhook.create", entity_type=ENTITY, entity_id=subscription.id,
                         before=None, after=_snapshot(subscription))
    return subscription


def get(*, db: Session, subscription_id: int) -> WebhookSubscription:
    found = db.get(WebhookSubscription, subscription_id)
    if found is None or found.deleted_at is not None:
        raise NotFound(f"No webhook subscription {subscription_id}.")
    return found


def list_subscriptions(*, db: Session) -> Sequence[WebhookSubscription]:
    return db.scalars(select(WebhookSubscription).where(WebhookSubscription.deleted_at.is_(None))
                      .order_by(WebhookSubscription.id)).all()


def set_active(*, db: Session, actor: Actor, subscription_id: int, active: bool) -> WebhookSubscription:
    """A disabled subscription gets no new deliveries; those already pending still go out."""
    subscription = get(db=db, subscription_id=subscription_id)
    before = _snapshot(subscription)
    subscription.active = active
    audit_service.record(db=db, actor=actor, action="webhook.enable" if active else "webhook.disable",
                         entity_type=ENTITY, entity_id=subscription.id, before=before, after=_snapshot(subscription))
    return subscription


def delete(*, db: Session, actor: Actor, now: datetime, subscription_id: int) -> None:
    """Deleted subscriptions stay as the record their deliveries point at; the secret is wiped and
    their pending deliveries are given up (dead), so nothing more is signed with it."""
    subscription = get(db=db, subscription_id=subscription_id)
    before = _snapshot(subscription)
    subscription.deleted_at, subscription.active, subscription.secret = now, False, ""
    for delivery in db.scalars(select(WebhookDelivery).where(
            WebhookDelivery.subscription_id == subscription_id,
            WebhookDelivery.state == DeliveryState.pending.value).with_for_update()):
        delivery.state, delivery.last_error = DeliveryState.dead.value, "subscription deleted"
    audit_service.record(db=db, actor=actor, action="webhook.delete", entity_type=ENTITY, entity_id=subscription.id,
                         before=before, after=_snapshot(subscription))


def deliveries(*, db: Session, subscription_id: int, state: DeliveryState | None, after_id: int | None,
               limit: int) -> Sequence[WebhookDelivery]:
    get(db=db, subscription_id=subscription_id)
    stmt = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
    if state is not None:
        stmt = stmt.where(WebhookDelivery.state == state.value)
    if after_id is not None:
        stmt = stmt.where(WebhookDelivery.id > after_id)
    return db.scalars(stmt.order_by(WebhookDelivery.id).limit(limit)).all()


def retry(*, db: Session, actor: Actor, now: datetime, subscription_id: int, delivery_id: int) -> WebhookDelivery:
    """Send a dead delivery again from its first attempt (after the receiver was fixed)."""
    subscription = get(db=db, subscription_id=subscription_id)
    delivery = db.get(WebhookDelivery, delivery_id, with_for_update=True)
    if delivery is None or delivery.subscription_id != subscription.id:
        raise NotFound(f"No delivery {delivery_id} of webhook subscription {subscription_id}.")
    if delivery.state != DeliveryState.dead.value:
        raise Conflict(f"Delivery {delivery_id} is {delivery.state}; only a dead delivery can be sent again.")
    before = {"state": delivery.state, "attempts": delivery.attempts, "last_error": delivery.last_error}
    delivery.state, delivery.attempts, delivery.next_attempt_at = DeliveryState.pending.value, 0, now
    delivery.leased_until = None
    audit_service.record(db=db, actor=actor, action="webhook.delivery_retry", entity_type="webhook_delivery",
                         entity_id=delivery.id, before=before,
                         after={"state": delivery.state, "attempts": 0, "event_id": delivery.event_id})
    return delivery
