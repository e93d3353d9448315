"""Sign-in (throttled), sign-out and password change."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Response, status

from api.dependencies import (
    AppSettings,
    Cache,
    ClientAddress,
    CurrentActor,
    DbSession,
    SessionFactory,
    SignedInClaims,
    public,
)
from core.bounds import column_length
from core.users import access
from core.users.models import User
from core.users.schemas import PASSWORD_MAX_LENGTH, PasswordChange, Token

router = APIRouter(prefix="/auth", tags=["auth"])

# The same rules as the column; control characters, NUL above all, are refused.
Username = Annotated[str, Form(min_length=1, max_length=column_length(User.username), pattern=r"^[^\x00-\x1f\x7f]+$")]
# No password an account can have is longer: a longer one cannot be right, so it is not hashed.
Password = Annotated[str, Form(min_length=1, max_length=PASSWORD_MAX_LENGTH)]


@router.post("/token", response_model=Token, dependencies=[Depends(public)],
             responses={429: {"description": "Too many failed sign-ins; see Retry-After"},
                        503: {"description": "The sign-in throttle store is unreachable; see Retry-After"}})
def sign_in(username: Username, password: Password, db: DbSession, session_factory: SessionFactory,
            cache: Cache, settings: AppSettings, address: ClientAddress) -> Token:
    """OAuth2 password flow: exchange username and password for a short-lived bearer token.

    Failed attempts are throttled per account and per client address: growing delays, then a temporary
    lock, answered 429 with Retry-After.
    """
    issued = access.sign_in(db=db, session_factory=session_factory, cache=cache, settings=settings.auth,
                            username=username, password=password, address=address)
    return Token(access_token=issued.access_token, expires_in=issued.expires_in)


@router.post("/sign-out", status_code=status.HTTP_204_NO_CONTENT)
def sign_out(db: DbSession, cache: Cache, actor: CurrentActor, claims: SignedInClaims) -> Response:
    """Revoke the token of this request at once. Other sessions of the same user stay signed in.
    (A personal access token is revoked at DELETE /api/v1/users/me/tokens/{id}, not here: 403.)"""
    access.sign_out(db=db, cache=cache, actor=actor, claims=claims)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/password", response_model=Token)
def change_password(change: PasswordChange, db: DbSession, session_factory: SessionFactory, cache: Cache,
                    settings: AppSettings, actor: CurrentActor, address: ClientAddress,
                    _signed_in: SignedInClaims) -> Token:
    """Change your own password (the current one is required). Every other token of yours stops working;
    the token returned replaces the one this request was made with. A personal access token may not (403)."""
    issued = access.change_password(db=db, session_factory=session_factory, cache=cache, settings=settings.auth,
                                    actor=actor, old_password=change.old_password,
                                    new_password=change.new_password, address=address)
    return Token(access_token=issued.access_token, expires_in=issued.expires_in)
