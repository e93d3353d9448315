"""Personal access tokens: stored credentials for GIS clients (GDAL, QGIS) that cannot sign in with a
password flow. Keyword-only, no HTTP, no commit.

A token is created, listed and revoked by its owner only; its secret is shown once and stored as a
SHA-256 digest. It carries nothing of its own but the owner: each request takes the owner's CURRENT
role and token version from the session state (`core.users.sessions`, the check every sign-in token
goes through), so disabling the user, changing their role or revoking the token takes effect on the
very next request. A token cannot mint further credentials (tokens, device tokens, a new password):
`TokenClaims.pat_id` marks it and the edge refuses it there.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.audit import service as audit_service
from core.context import Actor
from core.errors import InvalidInput, NotAuthenticated, NotFound
from core.security import TokenClaims
from core.settings import AuthSettings
from core.users import sessions
from core.users.models import PersonalAccessToken, User

# Recognisable in a leaked config file or a secret scanner's rules, and told apart from a JWT at once.
SECRET_PREFIX = "gwpat_"
SECRET_RANDOM_BYTES = 32
# How much of the secret the owner's list shows to tell tokens apart (the prefix and 6 random characters).
SHOWN_CHARACTERS = len(SECRET_PREFIX) + 6


@dataclass(frozen=True, slots=True)
class CreatedToken:
    token: PersonalAccessToken
    secret: str  # shown once, never stored


def is_personal_token(credential: str) -> bool:
    return credential.startswith(SECRET_PREFIX)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def snapshot(token: PersonalAccessToken) -> dict[str, object]:
    """What the audit log keeps of a token: never the secret nor its digest."""
    return {"user_id": token.user_id, "name": token.name, "prefix": token.prefix,
            "expires_at": token.expires_at.isoformat(),
            "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None}


def create(*, db: Session, actor: Actor, settings: AuthSettings, now: datetime, name: str,
           expires_in_days: int | None) -> CreatedToken:
    """A new token of the caller's, valid `expires_in_days` (default and maximum from the settings)."""
    if actor.user_id is None:
        raise NotAuthenticated("Only a signed-in user has personal access tokens.")
    days = settings.pat_default_days if expires_in_days is None else expires_in_days
    if days > settings.pat_max_days:
        raise InvalidInput(f"A token may be valid for at most {settings.pat_max_days} days.",
                           errors=[{"field": "expires_in_days", "message": f"max {settings.pat_max_days}"}])
    secret = SECRET_PREFIX + secrets.token_urlsafe(SECRET_RANDOM_BYTES)
    token = PersonalAccessToken(user_id=actor.user_id, name=name, prefix=secret[:SHOWN_CHARACTERS],
                                secret_sha256=_digest(secret), created_at=now, expires_at=now + timedelta(days=days))
    db.add(token)
    db.flush()
    audit_service.record(db=db, actor=actor, action="personal_token.create", entity_type="personal_token",
                         entity_id=token.id, before=None, after=snapshot(token))
    return CreatedToken(token=token, secret=secret)


def list_tokens(*, db: Session, actor: Actor) -> list[PersonalAccessToken]:
    """The caller's tokens, revoked and expired ones included (so the owner sees what happened)."""
    return list(db.scalars(select(PersonalAccessToken).where(PersonalAccessToken.user_id == actor.user_id)
                           .order_by(PersonalAccessToken.id)))


def revoke(*, db: Session, actor: Actor, now: datetime, token_id: int) -> None:
    """Revoke one of the caller's tokens; it stops working on the next request. Another user's token
    is answered as missing (its existence is not the caller's business); revoking twice changes nothing."""
    token = db.get(PersonalAccessToken, token_id, with_for_update=True)
    if token is None or token.user_id != actor.user_id:
        raise NotFound(f"You have no personal access token {token_id}.")
    if token.revoked_at is not None:
        return
    before = snapshot(token)
    token.revoked_at = now
    db.flush()
    audit_service.record(db=db, actor=actor, action="personal_token.revoke", entity_type="personal_token",
                         entity_id=token.id, before=before, after=snapshot(token))


def claims_for(*, db: Session, cache: redis.Redis, settings: AuthSettings, now: datetime, secret: str,
               username: str | None = None) -> TokenClaims:
    """The claims a valid token stands for, with its owner's current role; `username` (HTTP Basic) must
    be the owner's. Every refusal says the same, so an answer never tells which part was wrong."""
    invalid = NotAuthenticated("The personal access token is not valid, expired or revoked.")
    found = db.execute(select(PersonalAccessToken, User.username)
                       .join(User, User.id == PersonalAccessToken.user_id)
                       .where(PersonalAccessToken.secret_sha256 == _digest(secret))).first()
    if found is None:
        raise invalid
    token, owner = found
    if token.revoked_at is not None or token.expires_at <= now or (username is not None and username != owner):
        raise invalid
    state = sessions.current_state(db=db, cache=cache, settings=settings, user_id=token.user_id)
    if state is None or not state.is_active:
        raise NotAuthenticated("This account is disabled or no longer exists.")
    _mark_used(db=db, token=token, now=now, every_s=settings.pat_last_used_every_s)
    return TokenClaims(user_id=token.user_id, username=owner, role=state.role, token_version=state.token_version,
                       jti=f"pat-{token.id}", expires_at=token.expires_at, pat_id=token.id)


def _mark_used(*, db: Session, token: PersonalAccessToken, now: datetime, every_s: int) -> None:
    """At most one write per `every_s` per token. A row another request is updating is skipped, not
    waited for: the update lives until that request's transaction ends, and a client's parallel page
    requests must not queue behind one another for a timestamp."""
    if token.last_used_at is not None and now - token.last_used_at < timedelta(seconds=every_s):
        return
    free = (select(PersonalAccessToken.id).where(PersonalAccessToken.id == token.id)
            .with_for_update(skip_locked=True).scalar_subquery())
    db.execute(update(PersonalAccessToken).where(PersonalAccessToken.id == free).values(last_used_at=now)
               .execution_options(synchronize_session=False))
