"""Core's periodic jobs: the outbox relay and the webhook deliveries, every few seconds."""

from __future__ import annotations

from typing import Any

from core.events.settings import event_settings
from core.settings import Settings


def beat(settings: Settings) -> dict[str, dict[str, Any]]:
    interval = event_settings(settings).relay_interval_s
    # Both expire after one interval: a backlog of beat messages (a worker down for an hour) is not
    # worth running one by one; the next run does all that is due.
    return {"relay-outbox-events": {"task": "events.relay", "schedule": interval,
                                    "options": {"expires": interval}},
            "deliver-webhooks": {"task": "events.deliver", "schedule": interval,
                                 "options": {"expires": interval}}}
