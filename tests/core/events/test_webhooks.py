"""Signed webhooks: every event reaches a receiver that fails at first, once per event id after
de-duplication, in order per entity; a delivery that keeps failing is dead and can be sent again;
subscriptions are an administrator's, audited, and never point inside the utility's network."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.audit.models import AuditRecord
from core.celery_app import create_celery
from core.database import unit_of_work
from core.events import delivery, relay
from core.events.models import WebhookDelivery, WebhookSubscription
from core.events.settings import EventSettings
from core.events.signing import target_problem
from core.permissions import Role
from core.settings import Settings
from tests.core.events.conftest import Emit
from tests.core.events.receiver import Receiver, receiving

Auth = Callable[[Role], dict[str, str]]
HOOKS = "/api/v1/webhooks"
# Far enough ahead that the test worker (running on the real clock) never finds these deliveries due.
FUTURE = datetime(2099, 1, 1, tzinfo=UTC)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as found:
        yield found


def subscribe(client: TestClient, auth: Auth, receiver: Receiver, **fields: object) -> dict[str, object]:
    answer = client.post(HOOKS, json={"url": receiver.url, **fields}, headers=auth(Role.admin))
    assert answer.status_code == 201, answer.text
    return answer.json()


def wait_for(condition: Callable[[], bool], *, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def test_a_receiver_failing_the_first_attempts_gets_every_event_once_in_order_per_entity_and_signed(
        client: TestClient, auth: Auth, emit: Emit, settings: Settings, celery_worker: object,
        receiver: Receiver) -> None:
    receiver.fail_first = 3
    secret = str(subscribe(client, auth, receiver, event_types=["case.", "finding."])["secret"])
    sent = []
    for step in ("submit", "screen", "assign"):
        sent.append(emit(f"case.{step}", 1))
        sent.append(emit("finding.updated", 2, location="POINT(117.25 31.85)"))
    not_subscribed = emit("line.updated", 3)

    create_celery(settings).send_task("events.relay")
    everything = wait_for(lambda: {r.event["id"] for r in receiver.delivered()} >= set(sent), within=60)

    assert everything, f"delivered {[r.event['id'] for r in receiver.delivered()]} of {sent}"
    assert all(r.signed_with(secret) for r in receiver.requests)
    assert all(r.headers["X-GridWarden-Event-Id"] == str(r.event["id"]) for r in receiver.requests)
    assert sum(r.answered == 500 for r in receiver.requests) == 3
    delivered_ids = [r.event["id"] for r in receiver.delivered()]
    assert sorted(set(delivered_ids)) == sorted(sent) and not_subscribed not in delivered_ids
    for entity in ("1", "2"):
        in_order = [event_id for event_id in sent if str(event_id) in
                    {str(r.event["id"]) for r in receiver.requests if r.event["entity_id"] == entity}]
        tried = [r.event["id"] for r in receiver.requests if r.event["entity_id"] == entity]
        # Each event of an entity is tried only after the one before it was delivered.
        assert [event_id for i, event_id in enumerate(tried) if event_id not in tried[:i]] == in_order
        assert [r.event["id"] for r in receiver.delivered() if r.event["entity_id"] == entity] == in_order


def test_a_delivery_failing_every_attempt_is_dead_and_an_administrator_can_send_it_again(
        client: TestClient, auth: Auth, emit: Emit, settings: Settings, session_factory: sessionmaker[Session],
        celery_worker: object, receiver: Receiver) -> None:
    receiver.fail_first = 1_000_000
    hook = subscribe(client, auth, receiver)
    event_id = emit("case.submit", 1)
    limits = EventSettings(webhook_max_attempts=3, webhook_backoff_base_s=10, webhook_backoff_max_s=40,
                           allow_private_webhook_targets=True)
    with unit_of_work(session_factory) as db:
        relay.publish(db=db, now=FUTURE, limit=100)
    with unit_of_work(session_factory) as db:
        assert relay.fan_out(db=db, now=FUTURE, limit=100) == relay.FanOut(events=1, deliveries=1)

    clock, waits = FUTURE, []
    with httpx.Client(timeout=limits.webhook_timeout_s) as http:
        for _attempt in range(3):
            with unit_of_work(session_factory) as db:
                claimed = delivery.claim_due(db=db, now=clock, settings=limits)
            assert [c.event_id for c in claimed] == [event_id]
            answer = delivery.send(claimed[0], client=http, timestamp=int(clock.timestamp()), settings=limits)
            with unit_of_work(session_factory) as db:
                row = delivery.record(db=db, now=clock, delivery_id=claimed[0].delivery_id, answer=answer,
                                      settings=limits, rng=random.Random(9))
                waits.append((row.next_attempt_at - clock).total_seconds())
                clock = row.next_attempt_at
    with unit_of_work(session_factory) as db:
        assert delivery.claim_due(db=db, now=FUTURE.replace(year=2100), settings=limits) == []

    assert 5 <= waits[0] <= 10 and 10 <= waits[1] <= 20  # doubling, with jitter in the upper half
    dead = client.get(f"{HOOKS}/{hook['id']}/deliveries", params={"state": "dead"}, headers=auth(Role.admin)).json()
    assert [(d["event_id"], d["attempts"], d["last_status"]) for d in dead["items"]] == [(event_id, 3, 500)]
    assert len(receiver.requests) == 3

    receiver.fail_first = 0  # the receiver is fixed
    retried = client.post(f"{HOOKS}/{hook['id']}/deliveries/{dead['items'][0]['id']}/retry", headers=auth(Role.admin))
    assert retried.status_code == 200 and retried.json()["state"] == "pending" and retried.json()["attempts"] == 0
    create_celery(settings).send_task("events.deliver")
    assert wait_for(lambda: bool(receiver.delivered()), within=30)
    assert [r.event["id"] for r in receiver.delivered()] == [event_id]
    again = client.post(f"{HOOKS}/{hook['id']}/deliveries/{dead['items'][0]['id']}/retry", headers=auth(Role.admin))
    assert again.status_code == 409


def test_subscriptions_are_managed_by_administrators_audited_and_the_secret_is_shown_once(
        client: TestClient, auth: Auth, emit: Emit, session_factory: sessionmaker[Session], receiver: Receiver) -> None:
    refused = client.post(HOOKS, json={"url": receiver.url}, headers=auth(Role.dispatcher))
    hook = subscribe(client, auth, receiver, event_types=["case."], description="county GIS")
    listed = client.get(HOOKS, headers=auth(Role.admin)).json()

    assert refused.status_code == 403
    assert str(hook["secret"]).startswith("whsec_") and len(str(hook["secret"])) > 40
    assert [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]

    assert client.post(f"{HOOKS}/{hook['id']}/disable", headers=auth(Role.admin)).json()["active"] is False
    emit("case.submit", 1)
    with unit_of_work(session_factory) as db:
        relay.publish(db=db, now=FUTURE, limit=100)
    with unit_of_work(session_factory) as db:
        # A disabled subscription gets nothing new.
        assert relay.fan_out(db=db, now=FUTURE, limit=100) == relay.FanOut(events=1, deliveries=0)

    assert client.delete(f"{HOOKS}/{hook['id']}", headers=auth(Role.admin)).status_code == 204
    assert client.get(HOOKS, headers=auth(Role.admin)).json() == []
    with session_factory() as db:
        kept = db.get_one(WebhookSubscription, hook["id"])
        actions = db.scalars(select(AuditRecord.action).where(AuditRecord.entity_type == "webhook_subscription")
                             .order_by(AuditRecord.id)).all()
        audited_secret = any("whsec_" in str(r.after) for r in db.scalars(select(AuditRecord)))
        deliveries = db.scalars(select(WebhookDelivery)).all()
    assert kept.deleted_at is not None and kept.secret == ""
    assert actions == ["webhook.create", "webhook.disable", "webhook.delete"] and not audited_secret
    assert deliveries == []


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/x", "http://10.1.2.3/x", "http://169.254.169.254/latest",
                                 "http://[::1]/x", "http://192.168.0.10/x", "http://100.64.0.1/x",
                                 "http://[::ffff:127.0.0.1]/x", "http://0.0.0.0/x"])
def test_webhooks_may_not_point_at_internal_addresses(url: str) -> None:
    assert "public addresses" in str(target_problem(url, allow_private=False))


@pytest.mark.parametrize("url", ["ftp://203.0.113.9/x", "http://user:pw@8.8.8.8/x", "https:///nohost"])
def test_webhook_urls_are_plain_http_or_https_without_credentials(url: str) -> None:
    assert target_problem(url, allow_private=True) is not None


def test_a_public_address_is_a_valid_webhook_target() -> None:
    assert target_problem("https://8.8.8.8/hooks", allow_private=False) is None


def test_the_api_refuses_an_internal_webhook_target_when_the_installation_does_not_allow_it(
        client: TestClient, auth: Auth, monkeypatch: pytest.MonkeyPatch) -> None:
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    monkeypatch.setattr(settings.section(EventSettings), "allow_private_webhook_targets", False)
    answer = client.post(HOOKS, json={"url": "http://127.0.0.1:9/x"}, headers=auth(Role.admin))

    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "url"
