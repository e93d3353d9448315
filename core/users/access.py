"""Signing in, signing out and changing one's own password. Keyword-only, no HTTP.

Sign-in and the old-password check of a password change are both throttled (`core.users.throttle`):
a stolen token must not become a way to guess the password behind it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import redis
from sqlalchemy.orm import Session, sessionmaker

from core.audit import service as audit_service
from core.context import Actor
from core.database import after_commit, unit_of_work
from core.errors import InvalidInput, NotAuthenticated
from core.security import TokenClaims, hash_password, issue_token, verify_password
from core.settings import AuthSettings
from core.users import sessions, throttle
from core.users.models import User
from core.users.service import get_by_username, snapshot


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_in: int


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A fixed hash to verify against when the user does not exist, so a wrong username takes as long
    as a wrong password and response times do not reveal which accounts exist. Made on first use:
    hashing is deliberately slow and the worker and CLI never need it."""
    return hash_password("not-a-real-password")


def issue_for(*, settings: AuthSettings, user: User) -> IssuedToken:
    """A token for `user` at their current token version."""
    token, expires_in = issue_token(settings=settings, user_id=user.id, username=user.username,
                                    role=str(user.role), token_version=user.token_version)
    return IssuedToken(access_token=token, expires_in=expires_in)


def _audit_sink(session_factory: sessionmaker[Session], address: str) -> throttle.AuditSink:
    """Throttle events are written in a transaction of their own: the refused request rolls back."""

    def write(action: str, subject: throttle.Subject, details: dict[str, object]) -> None:
        with unit_of_work(session_factory) as audit_db:
            audit_service.record(db=audit_db, actor=throttle.SYSTEM_ACTOR, action=action,
                                 entity_type=f"sign_in_{subject.kind}", entity_id=subject.name[:60],
                                 before=None, after={"attempted_username" if subject.kind == "account"
                                                     else "address": subject.name, "address": address,
                                                     **details})

    return write


def sign_in(*, db: Session, session_factory: sessionmaker[Session], cache: redis.Redis, settings: AuthSettings,
            username: str, password: str, address: str) -> IssuedToken:
    """Exchange username and password for a token, under the sign-in throttle.

    Unknown usernames go through the same throttle and the same password hashing as known ones.
    """
    who = throttle.subjects(username=username, address=address)
    audit = _audit_sink(session_factory, address)
    throttle.guard(cache=cache, settings=settings, who=who, audit=audit)
    user = get_by_username(db=db, username=username)
    ok = verify_password(password, user.password_hash if user is not None else _dummy_hash())
    if user is None or not ok or not user.is_active:
        throttle.record_failure(cache=cache, settings=settings, who=who, audit=audit)
        raise NotAuthenticated("Wrong username or password.")
    throttle.record_success(cache=cache, who=who)
    return issue_for(settings=settings, user=user)


def sign_out(*, db: Session, cache: redis.Redis, actor: Actor, claims: TokenClaims) -> None:
    """Revoke the token this request was made with (only that one: other devices stay signed in)."""
    sessions.revoke(db=db, claims=claims)
    audit_service.record(db=db, actor=actor, action="auth.sign_out", entity_type="user", entity_id=claims.user_id,
                         before=None, after={"jti": claims.jti, "expires_at": claims.expires_at.isoformat()})
    after_commit(db, lambda: sessions.invalidate(cache=cache, user_id=claims.user_id))


def change_password(*, db: Session, session_factory: sessionmaker[Session], cache: redis.Redis,
                    settings: AuthSettings, actor: Actor, old_password: str, new_password: str,
                    address: str) -> IssuedToken:
    """Change one's own password (the old one is required) and end every other session.

    The token version is bumped, so every token issued before, including the one of this request, stops
    working; the fresh token returned keeps this client signed in.
    """
    user = db.get(User, actor.user_id, with_for_update=True, populate_existing=True) if actor.user_id is not None else None
    if user is None:
        raise NotAuthenticated("This account no longer exists.")
    who = throttle.subjects(username=user.username, address=address)
    audit = _audit_sink(session_factory, address)
    throttle.guard(cache=cache, settings=settings, who=who, audit=audit)
    if not verify_password(old_password, user.password_hash):
        throttle.record_failure(cache=cache, settings=settings, who=who, audit=audit)
        raise InvalidInput("The current password is wrong.",
                           errors=[{"field": "old_password", "message": "wrong password"}])
    throttle.record_success(cache=cache, who=who)
    before = snapshot(user)
    user.password_hash = hash_password(new_password)
    user.token_version += 1
    db.flush()
    audit_service.record(db=db, actor=actor, action="user.password_change", entity_type="user", entity_id=user.id,
                         before=before, after=snapshot(user))
    user_id = user.id
    after_commit(db, lambda: sessions.invalidate(cache=cache, user_id=user_id))
    return issue_for(settings=settings, user=user)
