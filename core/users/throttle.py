"""Sign-in throttling, held in Redis so every API process shares it.

Two subjects are counted for each attempt: the account (the username as typed, whether or not it exists,
so the answer never tells which accounts exist) and the client address. Each failure within
`signin_window_s` counts; after the free attempts each failure blocks the subject for a delay that
doubles (`signin_backoff_base_s` ... `signin_backoff_max_s`), and the failure that reaches
`signin_lock_after` locks it for `signin_lock_s`. A blocked attempt is refused with 429 and Retry-After
without checking the password; an attempt made during a delay (a client not honouring Retry-After) still
counts towards the lock, one made during a lock does not (it cannot make the lock any longer).

Every delay and lock imposed is audited (actor `system:sign-in`; the attempted username and the address
are in the record) in a transaction of its own, since the refused request itself rolls back. Refused
attempts are not audited one by one: that would let anyone fill the append-only audit log.

If Redis cannot be reached sign-in is refused with 503 (fail closed): unthrottled sign-in is what this
module exists to prevent.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import redis

from core.context import Actor
from core.errors import ServiceUnavailable, TooManyRequests
from core.settings import AuthSettings

logger = logging.getLogger(__name__)

Kind = Literal["account", "address"]
# Called with (action, subject, details) to write one audit record in its own transaction.
AuditSink = Callable[[str, "Subject", dict[str, object]], None]

SYSTEM_ACTOR = Actor.system("sign-in")


@dataclass(frozen=True, slots=True)
class Subject:
    kind: Kind
    name: str  # as typed (account) or the client address; only for the audit record

    @property
    def key(self) -> str:
        # Hashed: a username of any length or content makes a key of fixed size.
        digest = hashlib.sha256(f"{self.kind}\0{self.name}".encode()).hexdigest()[:32]
        return f"gw:signin:{self.kind}:{digest}"

    def free_attempts(self, settings: AuthSettings) -> int:
        return settings.signin_free_attempts if self.kind == "account" else settings.signin_free_attempts_per_address

    def lock_after(self, settings: AuthSettings) -> int:
        return settings.signin_lock_after if self.kind == "account" else settings.signin_lock_after_per_address


def subjects(*, username: str, address: str) -> tuple[Subject, Subject]:
    """Usernames are compared case-folded, so `Admin` and `admin` share one counter."""
    return Subject("account", username.casefold()), Subject("address", address)


def _unavailable(exc: Exception) -> ServiceUnavailable:
    logger.warning("sign-in throttle unreachable: %s", exc.__class__.__name__)
    return ServiceUnavailable("Sign-in is paused: the sign-in throttle store (Redis) is not reachable. "
                              "Retry shortly.", service="redis")


def guard(*, cache: redis.Redis, settings: AuthSettings, who: tuple[Subject, ...], audit: AuditSink) -> None:
    """Raise TooManyRequests if any subject is blocked; ServiceUnavailable if Redis is down."""
    try:
        pipe = cache.pipeline(transaction=False)
        for subject in who:
            pipe.get(f"{subject.key}:block")
            pipe.pttl(f"{subject.key}:block")
        replies = pipe.execute()
        wait_ms = 0
        for index, subject in enumerate(who):
            reason, ttl_ms = replies[2 * index], replies[2 * index + 1]
            if reason is None or ttl_ms is None or ttl_ms <= 0:
                continue
            if reason == b"delay":
                count = int(cache.incr(f"{subject.key}:n"))
                cache.expire(f"{subject.key}:n", settings.signin_window_s)
                if count == subject.lock_after(settings):
                    ttl_ms = _lock(cache=cache, settings=settings, subject=subject, count=count, audit=audit)
            wait_ms = max(wait_ms, int(ttl_ms))
    except redis.RedisError as exc:
        raise _unavailable(exc) from exc
    if wait_ms > 0:
        raise TooManyRequests("Too many failed sign-ins for this account or from this address; "
                              "wait before trying again.", retry_after_s=max(1, math.ceil(wait_ms / 1000)))


def _lock(*, cache: redis.Redis, settings: AuthSettings, subject: Subject, count: int, audit: AuditSink) -> int:
    cache.set(f"{subject.key}:block", "lock", ex=settings.signin_lock_s)
    cache.delete(f"{subject.key}:n")
    audit("auth.signin.locked", subject, {"failures": count, "locked_s": settings.signin_lock_s})
    return settings.signin_lock_s * 1000


def record_failure(*, cache: redis.Redis, settings: AuthSettings, who: tuple[Subject, ...],
                   audit: AuditSink) -> None:
    """Count a wrong password against every subject; impose a delay or a lock where it is due."""
    try:
        for subject in who:
            count = int(cache.incr(f"{subject.key}:n"))
            cache.expire(f"{subject.key}:n", settings.signin_window_s)
            if count >= subject.lock_after(settings):
                _lock(cache=cache, settings=settings, subject=subject, count=count, audit=audit)
            elif count > subject.free_attempts(settings):
                delay_s = min(settings.signin_backoff_base_s * 2 ** (count - subject.free_attempts(settings) - 1),
                              settings.signin_backoff_max_s)
                cache.set(f"{subject.key}:block", "delay", px=max(1, int(delay_s * 1000)))
                audit("auth.signin.delayed", subject, {"failures": count, "delay_s": delay_s})
    except redis.RedisError as exc:
        raise _unavailable(exc) from exc


def record_success(*, cache: redis.Redis, who: tuple[Subject, ...]) -> None:
    """A right password clears the account's count. The address keeps its count (it decays with the
    window): otherwise one valid account would let an address reset its counter between guesses."""
    try:
        for subject in who:
            if subject.kind == "account":
                cache.delete(f"{subject.key}:n")
    except redis.RedisError as exc:
        raise _unavailable(exc) from exc
