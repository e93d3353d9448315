from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from api.dependencies import DbSession, require
from core.context import Actor
from core.permissions import Permission
from core.users import service as user_service
from core.users.schemas import UserCreate, UserOut

router = APIRouter(prefix="/users", tags=["users"])

UserAdmin = Annotated[Actor, Depends(require(Permission.users_manage))]


@router.get("", response_model=list[UserOut])
def list_users(db: DbSession, _actor: UserAdmin) -> list[UserOut]:
    return [UserOut.model_validate(u) for u in user_service.list_users(db=db)]


@router.post("", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def create_user(user_in: UserCreate, db: DbSession, actor: UserAdmin) -> UserOut:
    return UserOut.model_validate(user_service.create(db=db, actor=actor, user_in=user_in))
