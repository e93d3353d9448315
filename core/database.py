"""Engine and session factories, and the unit of work that owns each transaction.

One `UnitOfWork` per HTTP request, Celery task or CLI command: it commits once at the end when the
work succeeded and rolls back otherwise. Services receive its `Session` and never commit themselves,
so a change and its audit record and outbox event land together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from core.errors import ServiceUnavailable
from core.settings import DatabaseSettings


def create_db_engine(settings: DatabaseSettings) -> Engine:
    engine = create_engine(
        settings.url.get_secret_value(),
        pool_size=settings.pool_size,
        max_overflow=settings.pool_size,
        pool_pre_ping=True,
        pool_timeout=10,
        connect_args={"connect_timeout": 5},
    )
    timeout_ms = settings.statement_timeout_ms

    @event.listens_for(engine, "connect")
    def _session_defaults(dbapi_connection, _record) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {int(timeout_ms)}")
            cursor.execute("SET TIME ZONE 'UTC'")
        dbapi_connection.commit()

    return engine


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` once the unit of work has committed (e.g. enqueue a job that reads the row).

    Callbacks of a rolled-back unit of work never run, so no job is sent for data that is not there.
    """
    session.info.setdefault("after_commit", []).append(callback)


@contextmanager
def unit_of_work(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """Open a session, commit if the block succeeds, roll back if it raises.

    A lost database connection becomes `ServiceUnavailable` (503, retry) rather than a 500: the
    client's request was not applied and can be sent again.
    """
    session = session_factory()
    try:
        yield session
        session.commit()
        callbacks = session.info.pop("after_commit", [])
        for callback in callbacks:
            callback()
    except OperationalError as exc:
        session.rollback()
        raise ServiceUnavailable("The database is not reachable; nothing was saved.", service="database") from exc
    except DBAPIError as exc:
        session.rollback()
        if exc.connection_invalidated:
            raise ServiceUnavailable("The database connection was lost; nothing was saved.",
                                     service="database") from exc
        raise
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
