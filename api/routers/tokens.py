"""Personal access tokens at /users/me/tokens: each user creates, lists and revokes their own (for
GIS clients such as QGIS and GDAL, which send one as a bearer token or as the HTTP Basic password)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from api.dependencies import AppSettings, CurrentActor, DbSession, Now, SignedInClaims
from core.users import tokens
from core.users.schemas import PersonalTokenCreated, PersonalTokenIn, PersonalTokenOut

router = APIRouter(prefix="/users/me/tokens", tags=["users"])

TokenId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.post("", response_model=PersonalTokenCreated, status_code=status.HTTP_201_CREATED,
             responses={403: {"description": "Sent with a personal access token: sign in to make another"}})
def create_token(body: PersonalTokenIn, db: DbSession, actor: CurrentActor, settings: AppSettings, now: Now,
                 _signed_in: SignedInClaims) -> PersonalTokenCreated:
    """A new personal access token; its secret is in this answer only (stored as a hash)."""
    created = tokens.create(db=db, actor=actor, settings=settings.auth, now=now, name=body.name,
                            expires_in_days=body.expires_in_days)
    return PersonalTokenCreated.model_validate({**PersonalTokenOut.model_validate(created.token).model_dump(),
                                                "token": created.secret})


@router.get("", response_model=list[PersonalTokenOut])
def list_tokens(db: DbSession, actor: CurrentActor) -> list[PersonalTokenOut]:
    """Your tokens (revoked and expired ones too), without their secrets."""
    return [PersonalTokenOut.model_validate(t) for t in tokens.list_tokens(db=db, actor=actor)]


@router.delete("/{token_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def revoke_token(token_id: TokenId, db: DbSession, actor: CurrentActor, now: Now) -> Response:
    """Revoke one of your tokens: it stops working on the next request."""
    tokens.revoke(db=db, actor=actor, now=now, token_id=token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
