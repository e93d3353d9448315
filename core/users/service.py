"""User accounts: creation, authentication and look-up. Keyword-only, no HTTP."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from core.audit import service as audit_service
from core.context import Actor
from core.errors import Conflict, NotAuthenticated, NotFound
from core.security import hash_password, verify_password
from core.users.models import Qualification, User
from core.users.schemas import UserCreate


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A fixed hash to verify against when the user does not exist, so a wrong username takes as long
    as a wrong password and response times do not reveal which accounts exist. Made on first use:
    hashing is deliberately slow and the worker and CLI never need it."""
    return hash_password("not-a-real-password")


def get_by_username(*, db: Session, username: str) -> User | None:
    return db.scalar(select(User).where(User.username == username).options(selectinload(User.qualifications)))


def get(*, db: Session, user_id: int) -> User:
    user = db.get(User, user_id, options=[selectinload(User.qualifications)])
    if user is None:
        raise NotFound(f"User {user_id} does not exist.")
    return user


def list_users(*, db: Session) -> list[User]:
    return list(db.scalars(select(User).options(selectinload(User.qualifications)).order_by(User.id)))


def authenticate(*, db: Session, username: str, password: str) -> User:
    user = get_by_username(db=db, username=username)
    if user is None:
        verify_password(password, _dummy_hash())
        raise NotAuthenticated("Wrong username or password.")
    if not verify_password(password, user.password_hash) or not user.is_active:
        raise NotAuthenticated("Wrong username or password.")
    return user


def snapshot(user: User) -> dict[str, object]:
    """What the audit log records of a user: never the password hash."""
    return {
        "username": user.username,
        "full_name": user.full_name,
        "role": str(user.role),
        "is_active": user.is_active,
        "qualifications": [
            {"certificate_type": q.certificate_type, "certificate_number": q.certificate_number,
             "max_voltage_kv": float(q.max_voltage_kv), "valid_until": q.valid_until.isoformat()}
            for q in user.qualifications
        ],
    }


def create(*, db: Session, actor: Actor, user_in: UserCreate) -> User:
    if get_by_username(db=db, username=user_in.username) is not None:
        raise Conflict(f"A user named {user_in.username!r} already exists.")
    user = User(
        username=user_in.username,
        full_name=user_in.full_name,
        role=user_in.role,
        password_hash=hash_password(user_in.password),
        qualifications=[Qualification(**q.model_dump()) for q in user_in.qualifications],
    )
    db.add(user)
    db.flush()
    audit_service.record(db=db, actor=actor, action="user.create", entity_type="user",
                         entity_id=user.id, before=None, after=snapshot(user))
    return user
