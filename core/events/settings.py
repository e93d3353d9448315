"""Settings of event delivery (`GW_EVENTS_*`): how fast the console hears of an event, and how
webhooks are retried. Numbers here are the utility's to change, with the reason for each default."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.settings import Settings


class EventSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GW_EVENTS_", extra="ignore")

    relay_interval_s: float = Field(default=2.0, gt=0, le=60, description=(
        "How often (Celery beat) the relay publishes committed events and creates webhook deliveries; "
        "also the longest wait of a webhook for an event no console stream has published first"))
    relay_batch: int = Field(default=1000, ge=1, le=100_000, description="Events published per relay transaction")
    stream_poll_s: float = Field(default=0.5, gt=0, le=10, description=(
        "How often one poller per API process looks for new events while a console stream is open "
        "(one short query for every stream of the process, no connection held between polls)"))
    stream_heartbeat_s: float = Field(default=15.0, gt=0, le=300, description=(
        "A comment line is sent after this long without an event, so proxies keep the connection open "
        "and a client notices a dead connection"))
    stream_max_s: float = Field(default=600.0, gt=0, description=(
        "A stream ends after this long (or when the caller's token expires, if sooner) and the client "
        "reconnects with Last-Event-ID: a disabled user or revoked token is then refused, and no stream "
        "outlives the session checks"))
    stream_page: int = Field(default=500, ge=1, le=10_000, description="Events read per query on resume")
    max_streams_per_process: int = Field(default=200, ge=1, description=(
        "Open console streams one API process serves; more are refused (503) rather than slowing all"))
    webhook_max_attempts: int = Field(default=10, ge=1, le=100, description=(
        "Attempts before a delivery is dead (listed, and sent again only by an administrator)"))
    webhook_backoff_base_s: float = Field(default=2.0, gt=0, description=(
        "Wait after the first failed attempt; doubles with each further one (with jitter)"))
    webhook_backoff_max_s: float = Field(default=900.0, gt=0, description="Longest wait between two attempts")
    webhook_timeout_s: float = Field(default=5.0, gt=0, le=60, description=(
        "Connect and read timeout of one webhook request: a slow receiver must not hold the worker"))
    webhook_batch: int = Field(default=50, ge=1, le=1000, description="Deliveries one delivery run claims")
    allow_private_webhook_targets: bool = Field(default=False, description=(
        "Allow webhook URLs that resolve to loopback, private, link-local or reserved addresses. Off: "
        "a webhook must not be a way to reach the utility's internal services (SSRF). The tests turn it on"))


def event_settings(settings: Settings) -> EventSettings:
    return settings.section(EventSettings)
