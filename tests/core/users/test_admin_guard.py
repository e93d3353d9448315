"""There is always an active administrator, even when two of them disable each other at once."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from core.context import Actor
from core.errors import Conflict
from core.permissions import Role
from core.users import service as user_service
from core.users.models import User
from core.users.schemas import UserCreate


@pytest.fixture
def two_sole_admins(session_factory: sessionmaker[Session], owner_engine: Engine) -> Iterator[tuple[User, User]]:
    """Two fresh administrators, the only active ones for the test (the others are disabled meanwhile)."""
    made = []
    with session_factory() as db, db.begin():
        for _ in range(2):
            made.append(user_service.create(db=db, actor=Actor.system("tests"), user_in=UserCreate(
                username=f"ga-{uuid.uuid4().hex[:10]}", role=Role.admin, password="admin-pw-123")))
    with owner_engine.begin() as conn:
        others = list(conn.execute(text(
            "UPDATE users SET is_active = false WHERE role = 'admin' AND is_active AND id <> ALL(:ids) RETURNING id"),
            {"ids": [u.id for u in made]}).scalars())
    yield made[0], made[1]
    with owner_engine.begin() as conn:
        conn.execute(text("UPDATE users SET is_active = true WHERE id = ANY(:ids)"), {"ids": others})


def _as(user: User) -> Actor:
    return Actor(user_id=user.id, username=user.username, role=Role.admin)


def _someone_waits_on_a_lock(engine: Engine) -> bool:
    with engine.connect() as conn:
        return bool(conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                     "AND query ILIKE '%FOR UPDATE%'")))


def test_two_admins_disabling_each_other_at_once_leave_one_active(
        two_sole_admins: tuple[User, User], session_factory: sessionmaker[Session], owner_engine: Engine,
        redis_client: redis.Redis) -> None:
    ann, bob = two_sole_admins
    outcome: list[BaseException | None] = []

    def bob_disables_ann() -> None:
        try:
            with session_factory() as db, db.begin():
                user_service.disable(db=db, cache=redis_client, actor=_as(bob), user_id=ann.id)
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - examined below
            outcome.append(exc)

    with session_factory() as first:
        first.begin()
        user_service.disable(db=first, cache=redis_client, actor=_as(ann), user_id=bob.id)  # not committed yet
        second = threading.Thread(target=bob_disables_ann)
        second.start()
        deadline = time.monotonic() + 10
        while not _someone_waits_on_a_lock(owner_engine) and time.monotonic() < deadline:
            time.sleep(0.05)
        first.commit()
    second.join(timeout=10)

    assert len(outcome) == 1 and isinstance(outcome[0], Conflict)
    with session_factory() as db:
        active = db.scalars(select(User.id).where(User.role == Role.admin, User.is_active.is_(True))).all()
    assert active == [ann.id]
