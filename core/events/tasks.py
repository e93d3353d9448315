"""Celery tasks of event delivery. Beat runs both every `GW_EVENTS_RELAY_INTERVAL_S`; the relay
sends a delivery run at once when it created deliveries, and a delivery run that leaves retries
waiting schedules the next run for when the first falls due (one such follow-up at a time)."""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime

import httpx
import redis
from celery import shared_task

from core.context import bind_request_id
from core.database import unit_of_work
from core.events import delivery, relay
from core.events.settings import event_settings
from core.worker_resources import resources

log = logging.getLogger(__name__)
FOLLOW_UP_KEY = "gw:events:deliver-follow-up"
_rng = random.SystemRandom()


@shared_task(name="events.relay")
def relay_events() -> int:
    """Publish committed events (numbering them in order) and create their webhook deliveries."""
    bind_request_id()
    res = resources()
    settings = event_settings(res.settings)
    published = settings.relay_batch
    while published == settings.relay_batch:  # a large import's events: batch after batch until none is left
        with unit_of_work(res.session_factory) as db:
            published = relay.publish(db=db, now=datetime.now(UTC), limit=settings.relay_batch)
    created = 0
    while True:
        with unit_of_work(res.session_factory) as db:
            done = relay.fan_out(db=db, now=datetime.now(UTC), limit=settings.relay_batch)
        created += done.deliveries
        if done.deliveries:
            deliver_webhooks.delay()  # the first batch's deliveries go out while the next are made
        if done.events < settings.relay_batch:
            return created


@shared_task(name="events.deliver")
def deliver_webhooks() -> int:
    """Send every due delivery (in batches), then schedule the next run for the earliest retry."""
    bind_request_id()
    res = resources()
    settings = event_settings(res.settings)
    sent = 0
    with httpx.Client(timeout=settings.webhook_timeout_s, follow_redirects=False) as client:
        while True:
            with unit_of_work(res.session_factory) as db:
                claimed = delivery.claim_due(db=db, now=datetime.now(UTC), settings=settings)
            if not claimed:
                break
            for item in claimed:
                now = datetime.now(UTC)
                answer = delivery.send(item, client=client, timestamp=int(now.timestamp()), settings=settings)
                with unit_of_work(res.session_factory) as db:
                    delivery.record(db=db, now=datetime.now(UTC), delivery_id=item.delivery_id, answer=answer,
                                    settings=settings, rng=_rng)
                sent += 1
    with unit_of_work(res.session_factory) as db:
        due = delivery.next_due(db=db)
    if due is not None:
        _follow_up(due, res.settings.redis.url.get_secret_value())
    return sent


def _follow_up(due: datetime, redis_url: str) -> None:
    """Run again when the next retry is due; a key in Redis lets only one such run wait at a time
    (beat runs the task anyway, so a lost follow-up only delays a retry by one interval)."""
    countdown = max(0.2, (due - datetime.now(UTC)).total_seconds())
    try:
        with redis.Redis.from_url(redis_url) as client:
            if not client.set(FOLLOW_UP_KEY, "1", nx=True, px=int(countdown * 1000)):
                return
    except redis.RedisError:
        log.warning("could not schedule the next webhook delivery run; beat will")
        return
    deliver_webhooks.apply_async(countdown=countdown)
