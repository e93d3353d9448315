"""Is a verified token still good? Checked on every authenticated request.

A signature only proves who issued a token; the user may since have been disabled, given another role,
changed their password or signed out. Each request therefore compares the token with the user's state:
active, the same `token_version`, and its `jti` not revoked.

The state is cached in Redis for `session_cache_seconds` (every change deletes the entry at once) and read
from the database when the entry is missing or Redis is unreachable: reads keep working without Redis.

Sign-out revokes one token by its `jti` (a `revoked_tokens` row kept until the token would have expired),
so signing out on a phone leaves the tablet signed in; bumping `token_version` instead would sign the user
out everywhere. The row lives in the database, not only in Redis, so it holds while Redis is down.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import redis
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.errors import NotAuthenticated
from core.security import TokenClaims
from core.settings import AuthSettings
from core.users.models import RevokedToken, User

logger = logging.getLogger(__name__)

_KEY = "gw:session:{user_id}"


@dataclass(frozen=True, slots=True)
class SessionState:
    """What a token is checked against: the user's active flag, version and revoked token ids."""

    is_active: bool
    token_version: int
    role: str
    revoked: frozenset[str]

    def to_json(self) -> str:
        return json.dumps({"a": self.is_active, "v": self.token_version, "r": self.role,
                           "x": sorted(self.revoked)})

    @classmethod
    def from_json(cls, text: str | bytes) -> SessionState:
        data = json.loads(text)
        return cls(is_active=bool(data["a"]), token_version=int(data["v"]), role=str(data["r"]),
                   revoked=frozenset(str(j) for j in data["x"]))


def _load(*, db: Session, user_id: int) -> SessionState | None:
    user = db.get(User, user_id)
    if user is None:
        return None
    revoked = db.scalars(select(RevokedToken.jti).where(RevokedToken.user_id == user_id,
                                                        RevokedToken.expires_at > datetime.now(UTC)))
    return SessionState(is_active=user.is_active, token_version=user.token_version, role=str(user.role),
                        revoked=frozenset(revoked))


def current_state(*, db: Session, cache: redis.Redis, settings: AuthSettings, user_id: int) -> SessionState | None:
    """The user's session state from the cache, else the database (and refill the cache)."""
    key = _KEY.format(user_id=user_id)
    try:
        cached = cache.get(key) if settings.session_cache_seconds else None
    except redis.RedisError as exc:
        logger.warning("session cache unreachable, reading the database: %s", exc.__class__.__name__)
        return _load(db=db, user_id=user_id)
    if cached is not None:
        return SessionState.from_json(cached)
    state = _load(db=db, user_id=user_id)
    if state is not None and settings.session_cache_seconds:
        try:
            cache.set(key, state.to_json(), ex=settings.session_cache_seconds)
        except redis.RedisError as exc:
            logger.warning("session cache unreachable: %s", exc.__class__.__name__)
    return state


def invalidate(*, cache: redis.Redis, user_id: int) -> None:
    """Forget the cached state so the next request reads the change. Call after the change is committed
    (`core.database.after_commit`): done before, a concurrent request could cache the old state again."""
    try:
        cache.delete(_KEY.format(user_id=user_id))
    except redis.RedisError as exc:
        # The entry expires by itself within session_cache_seconds.
        logger.warning("could not invalidate the session cache of user %s: %s", user_id, exc.__class__.__name__)


def check(*, db: Session, cache: redis.Redis, settings: AuthSettings, claims: TokenClaims) -> None:
    """Raise NotAuthenticated unless the token's user is active, on the same version and not signed out."""
    state = current_state(db=db, cache=cache, settings=settings, user_id=claims.user_id)
    if state is None or not state.is_active:
        raise NotAuthenticated("This account is disabled or no longer exists.")
    if state.token_version != claims.token_version or state.role != claims.role:
        raise NotAuthenticated("This session has ended (the account was changed); sign in again.")
    if claims.jti in state.revoked:
        raise NotAuthenticated("This token was signed out; sign in again.")


def revoke(*, db: Session, claims: TokenClaims) -> None:
    """Revoke one token until it expires; expired rows of the same user are removed on the way."""
    db.execute(delete(RevokedToken).where(RevokedToken.user_id == claims.user_id,
                                          RevokedToken.expires_at <= datetime.now(UTC)))
    # Two sign-outs of one token at the same moment both succeed: the second finds the row there.
    db.execute(insert(RevokedToken).values(jti=claims.jti, user_id=claims.user_id, expires_at=claims.expires_at)
               .on_conflict_do_nothing(index_elements=[RevokedToken.jti]))
