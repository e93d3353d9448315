"""Demo users have this installation's generated password, never a published one (issue 7 §1)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from core.audit.models import AuditRecord
from core.cli import DEMO_USERS, cmd_seed_demo
from core.context import Actor
from core.permissions import Role
from core.security import verify_password
from core.settings import Settings
from core.users import service as user_service
from core.users.schemas import UserCreate
from gridwarden.domains import installed

GENERATED = "3f9c0a1b7d2e4c68"


@pytest.fixture(autouse=True)
def no_demo_users(owner_engine: Engine) -> Iterator[None]:
    """Users outlive a test (the role users are kept): the demo accounts are removed before and after,
    so no other test meets an extra administrator."""
    names = [username for username, _role, _name in DEMO_USERS]

    def remove() -> None:
        with owner_engine.begin() as conn:
            conn.execute(text("DELETE FROM users WHERE username = ANY(:names)"), {"names": names})

    remove()
    yield
    remove()


def _password_hash(session_factory: sessionmaker[Session], username: str) -> str:
    with session_factory() as db:
        user = user_service.get_by_username(db=db, username=username)
        assert user is not None, username
        return user.password_hash


def test_seeding_without_the_generated_password_is_refused(settings: Settings, owner_engine: Engine,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GW_DEMO_PASSWORD", raising=False)

    assert cmd_seed_demo(settings, argparse.Namespace(domains=installed())) == 2


def test_demo_users_get_the_installation_password_and_published_ones_are_replaced(
    settings: Settings, owner_engine: Engine, session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An installation seeded before passwords were generated: its admin has the published password.
    with session_factory() as db, db.begin():
        user_service.create(db=db, actor=Actor.system("tests"), user_in=UserCreate(
            username="admin", role=Role.admin, password="admin-dev-pass"))
    monkeypatch.setenv("GW_DEMO_PASSWORD", GENERATED)

    assert cmd_seed_demo(settings, argparse.Namespace(domains=installed())) == 0

    for username, _role, _name in DEMO_USERS:
        stored = _password_hash(session_factory, username)
        assert verify_password(GENERATED, stored), username
        assert not verify_password(f"{username}-dev-pass", stored), username
    with session_factory() as db:
        resets = db.scalars(select(AuditRecord.entity_id).where(AuditRecord.action == "user.password_reset")).all()
    assert len(resets) == 1  # only the account that had the published password was changed
