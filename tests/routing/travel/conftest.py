from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.routing.road_grid import insert_grid


@pytest.fixture
def db(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session on the test database; the tables start empty (tests/conftest.py)."""
    with session_factory() as session:
        yield session


@pytest.fixture
def grid(db: Session) -> Session:
    """The 6 x 6 block town loaded as the road network."""
    insert_grid(db)
    db.commit()
    return db
