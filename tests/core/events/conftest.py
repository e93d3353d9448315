"""Fixtures of the event delivery tests: an API served by uvicorn on a loopback port (streams are
read over real HTTP) with short poll and heartbeat intervals, and a way to commit outbox events."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from core import outbox
from core.events.settings import event_settings
from core.settings import Settings
from tests.api.live_server import serve

# The console hears of events within one poll; these intervals keep the tests short.
FAST_STREAMS = {"GW_EVENTS_STREAM_POLL_S": "0.2", "GW_EVENTS_STREAM_HEARTBEAT_S": "1", "GW_EVENTS_STREAM_MAX_S": "120"}
Emit = Callable[..., int]


@pytest.fixture(scope="module")
def events_app(owner_engine: object) -> Iterator[FastAPI]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in FAST_STREAMS.items():
            patch.setenv(name, value)
        settings = Settings(environment="test")
        event_settings(settings)  # read now, while the fast intervals are in the environment
    yield create_app(settings)


@pytest.fixture
def server(events_app: FastAPI, role_users: object) -> Iterator[str]:
    with serve(events_app) as (host, port):
        yield f"http://{host}:{port}"


def emit_in(db: Session, *, event_type: str, entity_id: int | str, location: str | None = None,
            payload: dict[str, Any] | None = None) -> int:
    """Emit one event in `db`'s transaction (the caller commits); returns its outbox id."""
    event = outbox.emit(db=db, event_type=event_type, entity_type=event_type.split(".")[0], entity_id=entity_id,
                        payload=payload or {}, location_wkt=location)
    db.flush()
    return event.id


@pytest.fixture
def emit(session_factory: sessionmaker[Session]) -> Emit:
    """Commit one outbox event, as a domain's unit of work does; returns its id."""

    def _emit(event_type: str, entity_id: int | str, *, location: str | None = None,
              payload: dict[str, Any] | None = None) -> int:
        with session_factory() as db, db.begin():
            return emit_in(db, event_type=event_type, entity_id=entity_id, location=location, payload=payload)

    return _emit
