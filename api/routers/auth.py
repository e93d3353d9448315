from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from api.dependencies import AppSettings, DbSession, public
from core.security import issue_token
from core.users import service as user_service
from core.users.schemas import Token

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", response_model=Token, dependencies=[Depends(public)])
def sign_in(form: Annotated[OAuth2PasswordRequestForm, Depends()], db: DbSession, settings: AppSettings) -> Token:
    """OAuth2 password flow: exchange username and password for a short-lived bearer token."""
    user = user_service.authenticate(db=db, username=form.username, password=form.password)
    token, expires_in = issue_token(settings=settings.auth, user_id=user.id, username=user.username,
                                    role=str(user.role))
    return Token(access_token=token, expires_in=expires_in)
