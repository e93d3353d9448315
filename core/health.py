"""Liveness of every backing service. The API reports 200 only when all of them answer."""

from __future__ import annotations

from dataclasses import dataclass, field

import redis
from celery import Celery
from sqlalchemy import Engine, text

from core.errors import ServiceUnavailable
from media.storage import ObjectStorage


@dataclass
class ComponentStatus:
    ok: bool
    detail: str
    info: dict[str, str] = field(default_factory=dict)


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
