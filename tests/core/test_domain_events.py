"""A domain reacts to another domain's event in the same transaction: `core.outbox.emit` calls the
handlers the session factory was given for that event type, so the reaction commits with the change
or, when it fails, nothing of either is stored."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from core import outbox
from core.database import create_session_factory, unit_of_work
from core.outbox import OutboxEvent
from core.registry import Domain, Domains
from gridwarden.domains import installed


def _echo(*, db: Any, event: OutboxEvent) -> None:
    """Announce that `event` was seen, as a reacting domain would record its own change."""
    outbox.emit(db=db, event_type="echo.seen", entity_type=event.entity_type, entity_id=event.entity_id,
                payload={"of": event.event_type, "payload": event.payload})


def _refuse(*, db: Any, event: OutboxEvent) -> None:
    raise RuntimeError(f"cannot follow {event.event_type}")


def _event_types(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT event_type FROM outbox_events ORDER BY id")).scalars())


def test_a_handler_reacts_to_its_event_type_in_the_emitting_transaction(app_engine: Engine,
                                                                        owner_engine: Engine) -> None:
    factory = create_session_factory(app_engine, {"case.assign_survey": (_echo,)})

    with unit_of_work(factory) as db:
        outbox.emit(db=db, event_type="case.assign_survey", entity_type="case", entity_id=7, payload={"state": "x"})
        outbox.emit(db=db, event_type="case.screen", entity_type="case", entity_id=7)
        seen = db.scalars(select(OutboxEvent.payload).where(OutboxEvent.event_type == "echo.seen")).all()

    assert seen == [{"of": "case.assign_survey", "payload": {"state": "x"}}]
    assert _event_types(owner_engine) == ["case.assign_survey", "echo.seen", "case.screen"]


def test_a_failing_handler_rolls_back_the_change_that_caused_it(app_engine: Engine, owner_engine: Engine) -> None:
    factory = create_session_factory(app_engine, {"case.assign_survey": (_refuse,)})

    with pytest.raises(RuntimeError, match="cannot follow case.assign_survey"), unit_of_work(factory) as db:
        outbox.emit(db=db, event_type="case.assign_survey", entity_type="case", entity_id=7)

    assert _event_types(owner_engine) == []


def test_sessions_made_without_handlers_run_none(app_engine: Engine, owner_engine: Engine) -> None:
    with unit_of_work(create_session_factory(app_engine)) as db:
        outbox.emit(db=db, event_type="case.assign_survey", entity_type="case", entity_id=7)

    assert _event_types(owner_engine) == ["case.assign_survey"]


def test_domains_declare_handlers_by_event_type_and_every_installed_one_resolves() -> None:
    first = Domain(name="a", event_handlers=(("case.assign_survey", "tests.core.test_domain_events:_echo"),))
    second = Domain(name="b", event_handlers=(("case.assign_survey", "tests.core.test_domain_events:_refuse"),
                                              ("task.submit", "tests.core.test_domain_events:_echo")))

    assert Domains((first, second)).event_handlers() == {"case.assign_survey": (_echo, _refuse),
                                                         "task.submit": (_echo,)}
    assert all(callable(h) for handlers in installed().event_handlers().values() for h in handlers)
