"""The relay's numbering: only committed events are published, in id order, one numbering at a
time, so a reader resuming after a position never misses an event that commits late."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.database import unit_of_work
from core.events import feed, relay
from core.outbox import OutboxEvent
from tests.core.events.conftest import Emit, emit_in

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def positions(session_factory: sessionmaker[Session]) -> dict[int, int | None]:
    with session_factory() as db:
        rows = db.execute(select(OutboxEvent.id, OutboxEvent.position).order_by(OutboxEvent.id))
        return {event_id: position for event_id, position in rows}


def publish(session_factory: sessionmaker[Session]) -> int:
    with unit_of_work(session_factory) as db:
        return relay.publish(db=db, now=NOW, limit=100)


def test_an_event_committed_after_a_later_id_is_published_after_it_and_no_reader_skips_it(
        session_factory: sessionmaker[Session], emit: Emit) -> None:
    slow = session_factory()
    slow.begin()
    try:
        late = emit_in(slow, event_type="case.submit", entity_id=1)
        early = emit("case.submit", 2)
        first_round = publish(session_factory)
        with session_factory() as db:
            seen_by_reader = [e.id for e in feed.published_after(db=db, after=0, limit=10)]
        slow.commit()
    finally:
        slow.close()
    second_round = publish(session_factory)

    assert late < early and (first_round, second_round) == (1, 1)
    assert seen_by_reader == [early]
    assert positions(session_factory) == {late: 2, early: 1}
    with session_factory() as db:  # the reader resumes after what it saw and gets the late one
        assert [e.id for e in feed.published_after(db=db, after=1, limit=10)] == [late]


def test_committed_events_are_numbered_in_id_order_without_holes(session_factory: sessionmaker[Session],
                                                                  emit: Emit) -> None:
    ids = [emit("line.updated", n % 3) for n in range(7)]
    with unit_of_work(session_factory) as db:
        assert relay.publish(db=db, now=NOW, limit=4) == 4
    assert publish(session_factory) == 3
    assert publish(session_factory) == 0

    assert positions(session_factory) == {event_id: index for index, event_id in enumerate(ids, start=1)}


def test_only_one_process_numbers_at_a_time(session_factory: sessionmaker[Session], emit: Emit) -> None:
    emit("case.submit", 1)
    with unit_of_work(session_factory) as holder:
        assert relay.publish(db=holder, now=NOW, limit=100) == 1
        emit("case.submit", 2)
        # While the first numbering is not committed, another does nothing rather than race it.
        assert publish(session_factory) == 0
    assert publish(session_factory) == 1
    assert sorted(p for p in positions(session_factory).values() if p is not None) == [1, 2]
