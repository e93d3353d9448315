"""Revoking a token is safe when two requests sign the same token out at the same moment."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from core.context import Actor
from core.permissions import Role
from core.security import TokenClaims
from core.users import service as user_service
from core.users import sessions
from core.users.models import RevokedToken
from core.users.schemas import UserCreate


def _waiting_on_a_lock(engine: Engine) -> bool:
    with engine.connect() as conn:
        return bool(conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                     "AND query ILIKE '%revoked_tokens%'")))


def test_two_revocations_of_one_token_at_once_both_succeed(
        session_factory: sessionmaker[Session], owner_engine: Engine) -> None:
    with session_factory() as db, db.begin():
        user = user_service.create(db=db, actor=Actor.system("tests"), user_in=UserCreate(
            username=f"rv-{uuid.uuid4().hex[:10]}", role=Role.inspector, password="inspector-pw"))
    claims = TokenClaims(user_id=user.id, username=user.username, role="inspector", token_version=0,
                         jti=uuid.uuid4().hex, expires_at=datetime.now(UTC) + timedelta(minutes=5))
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with session_factory() as db, db.begin():
                sessions.revoke(db=db, claims=claims)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    with session_factory() as first:
        first.begin()
        sessions.revoke(db=first, claims=claims)  # holds the new row, uncommitted
        other = threading.Thread(target=second)
        other.start()
        deadline = time.monotonic() + 10
        while not _waiting_on_a_lock(owner_engine) and time.monotonic() < deadline:
            time.sleep(0.05)
        first.commit()
    other.join(timeout=10)

    assert errors == []
    with session_factory() as db:
        assert db.scalar(select(func.count()).select_from(RevokedToken).where(RevokedToken.jti == claims.jti)) == 1
