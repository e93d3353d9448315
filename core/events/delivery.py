"""Sending webhook deliveries: claim what is due, POST it signed, record the answer.

At least once: a delivery is claimed with a lease in its own short transaction, sent with no
database connection held, and its outcome recorded in another; a worker that dies in between
leaves the lease to run out and the delivery is sent again (receivers de-duplicate by
`X-GridWarden-Event-Id`). In order per entity and subscription: a delivery is not claimed while an
earlier one of the same entity is still pending, so a retried event holds back the later ones.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from core.events.feed import published_by_ids
from core.events.models import DeliveryState, WebhookDelivery, WebhookSubscription
from core.events.settings import EventSettings
from core.events.signing import signature, target_problem

ERROR_TEXT_LIMIT = 500


@dataclass(frozen=True)
class Claimed:
    delivery_id: int
    url: str
    secret: str
    event_id: int
    event_type: str
    body: bytes


@dataclass(frozen=True)
class Answer:
    status: int | None  # the receiver's HTTP status, None when there was none (refused, timed out)
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def claim_due(*, db: Session, now: datetime, settings: EventSettings) -> list[Claimed]:
    """Lease the deliveries due now whose entity has no earlier pending delivery, oldest first."""
    earlier = aliased(WebhookDelivery)
    blocked = (select(earlier.id).where(earlier.subscription_id == WebhookDelivery.subscription_id,
                                        earlier.entity_key == WebhookDelivery.entity_key,
                                        earlier.state == DeliveryState.pending.value,
                                        earlier.position < WebhookDelivery.position).exists())
    due = db.scalars(select(WebhookDelivery)
                     .where(WebhookDelivery.state == DeliveryState.pending.value,
                            WebhookDelivery.next_attempt_at <= now,
                            (WebhookDelivery.leased_until.is_(None)) | (WebhookDelivery.leased_until < now),
                            ~blocked)
                     .order_by(WebhookDelivery.position).limit(settings.webhook_batch)
                     .with_for_update(skip_locked=True, of=WebhookDelivery)).all()
    if not due:
        return []
    events = published_by_ids(db=db, ids=[d.event_id for d in due])
    subscriptions = {s.id: s for s in db.scalars(select(WebhookSubscription).where(
        WebhookSubscription.id.in_({d.subscription_id for d in due})))}
    # Long enough to send the whole batch one by one, each up to its timeout, before another worker
    # may take a delivery over (a worker that died lets them go when it ends).
    lease = timedelta(seconds=settings.webhook_timeout_s * (len(due) + 2))
    claimed = []
    for delivery in due:
        delivery.attempts += 1
        delivery.leased_until = now + lease
        subscription, event = subscriptions[delivery.subscription_id], events[delivery.event_id]
        body = json.dumps(event.as_json(), separators=(",", ":"), ensure_ascii=False).encode()
        claimed.append(Claimed(delivery_id=delivery.id, url=subscription.url, secret=subscription.secret,
                               event_id=event.id, event_type=event.event_type, body=body))
    return claimed


def send(claimed: Claimed, *, client: httpx.Client, timestamp: int, settings: EventSettings) -> Answer:
    """POST one delivery; any answer but 2xx, and any failure to get one, is a failed attempt."""
    if problem := target_problem(claimed.url, allow_private=settings.allow_private_webhook_targets):
        return Answer(status=None, error=f"target refused: {problem}")
    headers = {"Content-Type": "application/json", "User-Agent": "GridWarden-Webhooks/1",
               "X-GridWarden-Event-Id": str(claimed.event_id), "X-GridWarden-Event-Type": claimed.event_type,
               "X-GridWarden-Timestamp": str(timestamp),
               "X-GridWarden-Signature": signature(secret=claimed.secret, timestamp=timestamp, body=claimed.body)}
    try:
        response = client.post(claimed.url, content=claimed.body, headers=headers)
    except httpx.HTTPError as exc:
        return Answer(status=None, error=f"{exc.__class__.__name__}: {exc}"[:ERROR_TEXT_LIMIT])
    error = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
    return Answer(status=response.status_code, error=error)


def backoff_s(attempts: int, *, settings: EventSettings, rng: random.Random) -> float:
    """Exponential back-off with jitter: half the doubled delay fixed, half random, so receivers
    recovering from an outage are not hit by every retry at the same instant."""
    delay = min(settings.webhook_backoff_max_s, settings.webhook_backoff_base_s * 2 ** (attempts - 1))
    return delay / 2 + rng.uniform(0, delay / 2)


def record(*, db: Session, now: datetime, delivery_id: int, answer: Answer, settings: EventSettings,
           rng: random.Random) -> WebhookDelivery:
    """Store an attempt's outcome: delivered, or the next attempt's time, or dead after the last."""
    delivery = db.get_one(WebhookDelivery, delivery_id, with_for_update=True)
    delivery.last_status, delivery.last_error, delivery.leased_until = answer.status, answer.error, None
    if answer.delivered:
        delivery.state, delivery.delivered_at = DeliveryState.delivered.value, now
    elif delivery.attempts >= settings.webhook_max_attempts:
        delivery.state = DeliveryState.dead.value
    else:
        delivery.next_attempt_at = now + timedelta(seconds=backoff_s(delivery.attempts, settings=settings, rng=rng))
    return delivery


def next_due(*, db: Session) -> datetime | None:
    """When the earliest pending delivery falls due (None when nothing is pending)."""
    return db.scalar(select(func.min(WebhookDelivery.next_attempt_at))
                     .where(WebhookDelivery.state == DeliveryState.pending.value))
