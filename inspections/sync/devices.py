"""Registered devices and their tokens. Keyword-only functions, no HTTP, no commit.

A device token is a sign-in token with a `dev` claim and a longer lifetime (devices stay offline for
days). Revoking the device ends every token it holds on the next request: each request with a device
token checks the device (`check`), cached in Redis for `session_cache_seconds` like the user's session
state (`core.users.sessions`), read from the database when the entry is missing or Redis is down, and
invalidated the moment a revocation commits.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import service as audit_service
from core.context import Actor
from core.database import after_commit
from core.errors import NotAuthenticated, NotFound, PermissionDenied
from core.permissions import has_permission
from core.security import TokenClaims, issue_token
from core.settings import Settings
from core.users.models import User
from inspections.sync.models import Device
from inspections.sync.permissions import DEVICES_READ_ALL, DEVICES_REVOKE_ANY
from inspections.sync.settings import sync_settings

logger = logging.getLogger(__name__)

_KEY = "gw:device:{device_id}"


@dataclass(frozen=True)
class DeviceSpec:
    client_device_id: str
    name: str = ""
    platform: str = ""
    app_version: str = ""


@dataclass(frozen=True)
class RegisteredDevice:
    device: Device
    access_token: str
    expires_in: int
    created: bool


def snapshot(device: Device) -> dict[str, object]:
    return {"user_id": device.user_id, "client_device_id": device.client_device_id, "name": device.name,
            "platform": device.platform, "app_version": device.app_version,
            "revoked_at": device.revoked_at.isoformat() if device.revoked_at else None,
            "revoked_by_id": device.revoked_by_id}


def register(*, db: Session, actor: Actor, settings: Settings, now: datetime, spec: DeviceSpec) -> RegisteredDevice:
    """Register the caller's device and issue its token. The same app registering again (a reinstall,
    a lost response) gets its existing device back, with its details updated and a fresh token."""
    user = db.get(User, actor.user_id) if actor.user_id is not None else None
    if user is None:
        raise PermissionDenied("Only a signed-in user registers a device.")
    device = db.scalars(select(Device).where(Device.user_id == user.id,
                                             Device.client_device_id == spec.client_device_id,
                                             Device.revoked_at.is_(None)).with_for_update()).first()
    created = device is None
    before = None if device is None else snapshot(device)
    if device is None:
        device = Device(user_id=user.id, client_device_id=spec.client_device_id, registered_at=now)
        db.add(device)
    device.name, device.platform, device.app_version = spec.name, spec.platform, spec.app_version
    device.last_seen_at = now
    db.flush()
    audit_service.record(db=db, actor=actor, action="device.register" if created else "device.re_register",
                         entity_type="device", entity_id=device.id, before=before, after=snapshot(device))
    token, expires_in = issue_token(settings=settings.auth, user_id=user.id, username=user.username,
                                    role=str(user.role), token_version=user.token_version, device_id=device.id,
                                    lifetime=timedelta(days=sync_settings(settings).device_token_days))
    return RegisteredDevice(device=device, access_token=token, expires_in=expires_in, created=created)


def list_devices(*, db: Session, actor: Actor) -> list[Device]:
    """The caller's devices; every device for those who may see all (supervisors, administrators)."""
    stmt = select(Device).order_by(Device.id)
    if not has_permission(actor.role, DEVICES_READ_ALL):
        stmt = stmt.where(Device.user_id == actor.user_id)
    return list(db.scalars(stmt))


def revoke(*, db: Session, actor: Actor, cache: redis.Redis, now: datetime, device_id: int) -> Device:
    """Revoke a device (its owner, or an administrator): every token it holds stops working at once.
    Revoking a revoked device changes nothing and answers the device as it is."""
    device = db.get(Device, device_id, with_for_update=True)
    if device is None or (device.user_id != actor.user_id and not has_permission(actor.role, DEVICES_READ_ALL)):
        raise NotFound(f"Device {device_id} does not exist.")
    if device.user_id != actor.user_id and not has_permission(actor.role, DEVICES_REVOKE_ANY):
        raise PermissionDenied("Only the device's owner or an administrator may revoke it.")
    if device.revoked_at is not None:
        return device
    before = snapshot(device)
    device.revoked_at, device.revoked_by_id = now, actor.user_id
    db.flush()
    audit_service.record(db=db, actor=actor, action="device.revoke", entity_type="device", entity_id=device.id,
                         before=before, after=snapshot(device))
    after_commit(db, lambda: invalidate(cache=cache, device_id=device_id))
    return device


def _load(*, db: Session, device_id: int) -> dict[str, object] | None:
    device = db.get(Device, device_id)
    return None if device is None else {"u": device.user_id, "r": device.revoked_at is not None}


def _state(*, db: Session, cache: redis.Redis, cache_seconds: int, device_id: int) -> dict[str, object] | None:
    key = _KEY.format(device_id=device_id)
    try:
        cached = cache.get(key) if cache_seconds else None
    except redis.RedisError as exc:
        logger.warning("device cache unreachable, reading the database: %s", exc.__class__.__name__)
        return _load(db=db, device_id=device_id)
    if cached is not None:
        state: dict[str, object] = json.loads(cached)
        return state
    loaded = _load(db=db, device_id=device_id)
    if loaded is not None and cache_seconds:
        try:
            cache.set(key, json.dumps(loaded), ex=cache_seconds)
        except redis.RedisError as exc:
            logger.warning("device cache unreachable: %s", exc.__class__.__name__)
    return loaded


def check(*, db: Session, cache: redis.Redis, settings: Settings, claims: TokenClaims) -> None:
    """Raise NotAuthenticated unless the token's device exists, is the token user's and is not revoked."""
    if claims.device_id is None:
        return
    state = _state(db=db, cache=cache, cache_seconds=settings.auth.session_cache_seconds, device_id=claims.device_id)
    if state is None or state["u"] != claims.user_id:
        raise NotAuthenticated("The access token is not valid.")
    if state["r"]:
        raise NotAuthenticated("This device was revoked; register it again after signing in.")


def invalidate(*, cache: redis.Redis, device_id: int) -> None:
    """Forget the cached device state (after the revocation commits)."""
    try:
        cache.delete(_KEY.format(device_id=device_id))
    except redis.RedisError as exc:
        # The entry expires by itself within session_cache_seconds.
        logger.warning("could not invalidate the cache of device %s: %s", device_id, exc.__class__.__name__)


def lock_for_pull(*, db: Session, actor: Actor, device_id: int, now: datetime) -> Device:
    """The caller's own device (a device token's), locked: one pull of a device at a time, so two
    pages asked for at once cannot both start a generation. Marks it seen."""
    device = db.get(Device, device_id, with_for_update=True)
    if device is None or device.user_id != actor.user_id or device.revoked_at is not None:
        raise NotAuthenticated("This device was revoked; register it again after signing in.")
    device.last_seen_at = now
    return device
