"""User accounts: creation, look-up and the administrator's actions on them. Keyword-only, no HTTP.

Disabling, enabling and changing the role of a user each bump the user's token version, so every token
issued before stops working on the next request (`core.users.sessions`); the session cache is cleared
once the change has committed. Signing in and out lives in `core.users.access`.
"""

from __future__ import annotations

import redis
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from core.audit import service as audit_service
from core.context import Actor
from core.database import after_commit
from core.errors import Conflict, NotFound
from core.permissions import Role
from core.security import hash_password
from core.users import sessions
from core.users.models import Qualification, User
from core.users.schemas import QualificationIn, UserCreate


def get_by_username(*, db: Session, username: str) -> User | None:
    return db.scalar(select(User).where(User.username == username).options(selectinload(User.qualifications)))


def get(*, db: Session, user_id: int) -> User:
    user = db.get(User, user_id, options=[selectinload(User.qualifications)])
    if user is None:
        raise NotFound(f"User {user_id} does not exist.")
    return user


def list_users(*, db: Session) -> list[User]:
    return list(db.scalars(select(User).options(selectinload(User.qualifications)).order_by(User.id)))


def snapshot(user: User) -> dict[str, object]:
    """What the audit log records of a user: never the password hash."""
    return {
        "username": user.username,
        "full_name": user.full_name,
        "role": str(user.role),
        "is_active": user.is_active,
        "token_version": user.token_version,
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


def replace_password(*, db: Session, actor: Actor, user: User, password: str) -> User:
    """Set a new password without the old one (an administrator's or a set-up tool's act, audited);
    the user's tokens stop working. Sessions cached in Redis expire within the cache's few seconds."""
    before = snapshot(user)
    user.password_hash = hash_password(password)
    user.token_version += 1
    db.flush()
    audit_service.record(db=db, actor=actor, action="user.password_reset", entity_type="user", entity_id=user.id,
                         before=before, after=snapshot(user))
    return user


def _lock(*, db: Session, user_id: int) -> User:
    user = db.get(User, user_id, with_for_update=True, populate_existing=True,
                  options=[selectinload(User.qualifications)])
    if user is None:
        raise NotFound(f"User {user_id} does not exist.")
    return user


def _lock_admins_then(*, db: Session, user_id: int) -> tuple[User, list[int]]:
    """Lock the active administrators' rows (in id order), then the user's; return the user and the
    active administrators' ids.

    Every change that could take away an administrator takes these locks first and in the same order,
    so two administrators disabling each other at the same moment queue up instead of deadlocking, and
    the second sees the first one's change.
    """
    admins = list(db.scalars(select(User.id).where(User.role == Role.admin, User.is_active.is_(True))
                             .order_by(User.id).with_for_update()))
    return _lock(db=db, user_id=user_id), admins


def _ensure_an_admin_remains(*, user: User, active_admins: list[int]) -> None:
    """Refuse a change that takes away the last active administrator (nobody could manage users then)."""
    if user.role == Role.admin and user.is_active and not [i for i in active_admins if i != user.id]:
        raise Conflict(f"{user.username} is the last active administrator; enable or appoint another "
                       "administrator first.")


def _change(*, db: Session, cache: redis.Redis, actor: Actor, user: User, action: str,
            is_active: bool | None = None, role: Role | None = None) -> User:
    before = snapshot(user)
    if is_active is not None:
        user.is_active = is_active
    if role is not None:
        user.role = role
    user.token_version += 1
    db.flush()
    audit_service.record(db=db, actor=actor, action=action, entity_type="user", entity_id=user.id,
                         before=before, after=snapshot(user))
    user_id = user.id
    after_commit(db, lambda: sessions.invalidate(cache=cache, user_id=user_id))
    return user


def disable(*, db: Session, cache: redis.Redis, actor: Actor, user_id: int) -> User:
    """Disable an account: it can no longer sign in, and its tokens stop working at once."""
    user, active_admins = _lock_admins_then(db=db, user_id=user_id)
    _ensure_an_admin_remains(user=user, active_admins=active_admins)
    return _change(db=db, cache=cache, actor=actor, user=user, action="user.disable", is_active=False)


def enable(*, db: Session, cache: redis.Redis, actor: Actor, user_id: int) -> User:
    user = _lock(db=db, user_id=user_id)
    return _change(db=db, cache=cache, actor=actor, user=user, action="user.enable", is_active=True)


def set_role(*, db: Session, cache: redis.Redis, actor: Actor, user_id: int, role: Role) -> User:
    """Give a user another role; tokens carrying the old role stop working at once."""
    user, active_admins = _lock_admins_then(db=db, user_id=user_id)
    if role != Role.admin:
        _ensure_an_admin_remains(user=user, active_admins=active_admins)
    return _change(db=db, cache=cache, actor=actor, user=user, action="user.role_change", role=role)


def add_qualification(*, db: Session, actor: Actor, user_id: int, qualification: QualificationIn) -> User:
    """Record a certificate the user holds (it gates field work from then on)."""
    user = _lock(db=db, user_id=user_id)
    before = snapshot(user)
    user.qualifications.append(Qualification(**qualification.model_dump()))
    db.flush()
    audit_service.record(db=db, actor=actor, action="user.qualification_add", entity_type="user", entity_id=user.id,
                         before=before, after=snapshot(user))
    return user


def remove_qualification(*, db: Session, actor: Actor, user_id: int, qualification_id: int) -> User:
    """Remove a certificate (withdrawn, or recorded by mistake); the audit log keeps what it was.
    Tasks already assigned keep their assignee: the gate applies when work is assigned."""
    user = _lock(db=db, user_id=user_id)
    found = next((q for q in user.qualifications if q.id == qualification_id), None)
    if found is None:
        raise NotFound(f"User {user_id} has no qualification {qualification_id}.")
    before = snapshot(user)
    user.qualifications.remove(found)
    db.flush()
    audit_service.record(db=db, actor=actor, action="user.qualification_remove", entity_type="user",
                         entity_id=user.id, before=before, after=snapshot(user))
    return user
