"""User administration (users:manage): create, list, disable / enable, change role."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status

from api.dependencies import Cache, DbSession, require
from core.context import Actor
from core.permissions import USERS_MANAGE
from core.users import service as user_service
from core.users.schemas import QualificationIn, RoleChange, UserCreate, UserOut

router = APIRouter(prefix="/users", tags=["users"])

UserAdmin = Annotated[Actor, Depends(require(USERS_MANAGE))]
UserId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get("", response_model=list[UserOut])
def list_users(db: DbSession, _actor: UserAdmin) -> list[UserOut]:
    return [UserOut.model_validate(u) for u in user_service.list_users(db=db)]


@router.post("", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def create_user(user_in: UserCreate, db: DbSession, actor: UserAdmin) -> UserOut:
    return UserOut.model_validate(user_service.create(db=db, actor=actor, user_in=user_in))


@router.post("/{user_id}/disable", response_model=UserOut,
             responses={409: {"description": "It would leave no active administrator"}})
def disable_user(user_id: UserId, db: DbSession, cache: Cache, actor: UserAdmin) -> UserOut:
    """Disable an account: it cannot sign in and every token it holds stops working at once."""
    return UserOut.model_validate(user_service.disable(db=db, cache=cache, actor=actor, user_id=user_id))


@router.post("/{user_id}/enable", response_model=UserOut)
def enable_user(user_id: UserId, db: DbSession, cache: Cache, actor: UserAdmin) -> UserOut:
    """Enable an account again; it signs in afresh (tokens from before it was disabled stay dead)."""
    return UserOut.model_validate(user_service.enable(db=db, cache=cache, actor=actor, user_id=user_id))


@router.put("/{user_id}/role", response_model=UserOut,
            responses={409: {"description": "It would leave no active administrator"}})
def change_role(user_id: UserId, change: RoleChange, db: DbSession, cache: Cache, actor: UserAdmin) -> UserOut:
    """Give a user another role. Their tokens carrying the old role stop working at once."""
    return UserOut.model_validate(user_service.set_role(db=db, cache=cache, actor=actor, user_id=user_id,
                                                        role=change.role))


@router.post("/{user_id}/qualifications", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def add_qualification(user_id: UserId, qualification: QualificationIn, db: DbSession, actor: UserAdmin) -> UserOut:
    """Record a certificate the user holds (kind, voltage class, valid until); it gates field tasks."""
    return UserOut.model_validate(user_service.add_qualification(db=db, actor=actor, user_id=user_id,
                                                                 qualification=qualification))


@router.delete("/{user_id}/qualifications/{qualification_id}", response_model=UserOut)
def remove_qualification(user_id: UserId, qualification_id: UserId, db: DbSession, actor: UserAdmin) -> UserOut:
    """Remove a certificate; the audit log keeps what it was."""
    return UserOut.model_validate(user_service.remove_qualification(db=db, actor=actor, user_id=user_id,
                                                                    qualification_id=qualification_id))
