"""Liveness of every backing service. The API reports 200 only when all of them answer.

Everyone may learn whether each component is up (`HealthReport.summary`); only administrators learn
server versions, worker counts and why a component is down (`HealthReport.details`), because those tell
an attacker which known vulnerabilities to try.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import redis
from celery import Celery
from sqlalchemy import Engine, text

from core.errors import ServiceUnavailable
from core.storage import ObjectStorage


@dataclass
class ComponentStatus:
    ok: bool
    detail: str
    info: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class HealthReport:
    components: dict[str, ComponentStatus]

    @property
    def down(self) -> list[str]:
        return sorted(name for name, status in self.components.items() if not status.ok)

    @property
    def ok(self) -> bool:
        return not self.down

    def summary(self) -> dict[str, object]:
        """Up or down, overall and per component: what a load balancer or anyone else may know."""
        return {"status": "ok" if self.ok else "degraded", "down": self.down,
                "components": {name: {"ok": s.ok} for name, s in self.components.items()}}

    def details(self) -> dict[str, object]:
        """The summary plus versions, worker counts and the reason a component is down (administrators)."""
        return {**self.summary(),
                "components": {name: {"ok": s.ok, "detail": s.detail, **s.info} for name, s in self.components.items()}}


def check_all(*, engine: Engine, redis_url: str, storage: ObjectStorage, celery: Celery) -> HealthReport:
    return HealthReport({
        "database": check_database(engine),
        "redis": check_redis(redis_url),
        "s3": check_storage(storage),
        "workers": check_workers(celery),
    })


def check_database(engine: Engine) -> ComponentStatus:
    try:
        with engine.connect() as conn:
            postgis = conn.execute(text("SELECT postgis_lib_version()")).scalar_one()
            server = conn.execute(text("SHOW server_version")).scalar_one()
        return ComponentStatus(True, "up", {"postgis_version": str(postgis), "postgresql_version": str(server)})
    except Exception as exc:  # noqa: BLE001 - any failure means "down"; the class name says which
        return ComponentStatus(False, f"down ({exc.__class__.__name__})")


def check_redis(url: str) -> ComponentStatus:
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
        return ComponentStatus(True, "up")
    except redis.RedisError as exc:
        return ComponentStatus(False, f"down ({exc.__class__.__name__})")
    finally:
        client.close()


def check_storage(storage: ObjectStorage) -> ComponentStatus:
    try:
        storage.ping()
        return ComponentStatus(True, "up")
    except ServiceUnavailable as exc:
        return ComponentStatus(False, f"down ({exc.detail})")


def check_workers(celery: Celery, *, timeout_s: float = 1.5) -> ComponentStatus:
    try:
        replies = celery.control.ping(timeout=timeout_s)
    except Exception as exc:  # noqa: BLE001 - broker down also means no worker can be reached
        return ComponentStatus(False, f"down ({exc.__class__.__name__})")
    if not replies:
        return ComponentStatus(False, "down (no Celery worker answered)")
    return ComponentStatus(True, "up", {"workers": str(len(replies))})
