"""Engine and session factories, and the unit of work that owns each transaction.

One `UnitOfWork` per HTTP request, Celery task or CLI command: it commits once at the end when the
work succeeded and rolls back otherwise. Services receive its `Session` and never commit themselves,
so a change and its audit record and outbox event land together or not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, sessionmaker

from core.errors import ServiceUnavailable
from core.outbox import EVENT_HANDLERS, EventHandlers
from core.settings import DatabaseSettings

logger = logging.getLogger(__name__)


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
    jit = "on" if settings.jit else "off"

    @event.listens_for(engine, "connect")
    def _session_defaults(dbapi_connection, _record) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {int(timeout_ms)}")
            cursor.execute("SET TIME ZONE 'UTC'")
            cursor.execute(f"SET jit = {jit}")
        dbapi_connection.commit()

    return engine


# --- Read replica (issue 14): a second engine for reads, and the WAL positions read-your-writes compares.

# A WAL position (pg_lsn) as bytes from the start of the WAL: a plain number Redis and Python compare.
_WRITTEN = text("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint")
_REPLAYED = text("SELECT (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint")


def create_read_engine(settings: DatabaseSettings) -> Engine | None:
    """The engine of the read replica (`GW_DATABASE_READ_URL`), with the primary's pool and session
    settings; None when no replica is configured."""
    if not settings.read_url.get_secret_value():
        return None
    return create_db_engine(settings.model_copy(update={"url": settings.read_url}))


def written_position(session: Session) -> int:
    """The primary's WAL position now; read after a commit, it is at or past that commit's record."""
    return int(session.execute(_WRITTEN).scalar_one())


def replayed_position(session: Session) -> int | None:
    """How far a standby has replayed the primary's WAL; None on a server that is not a standby (a
    promoted replica, or the read URL pointing at a primary): nothing to compare, read the primary."""
    value = session.execute(_REPLAYED).scalar_one()
    return None if value is None else int(value)


def create_session_factory(engine: Engine, event_handlers: EventHandlers | None = None) -> sessionmaker[Session]:
    """Sessions on `engine`; `event_handlers` (the installed domains' `Domains.event_handlers()`) are
    what `core.outbox.emit` calls in each session. A factory made without them runs none: the API,
    the worker and the tests pass them; the CLI's commands emit no event another domain handles."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True,
                        info={EVENT_HANDLERS: dict(event_handlers or {})})


def after_commit(session: Session, callback: Callable[[], object]) -> None:
    """Run `callback` once the unit of work has committed (e.g. enqueue a job that reads the row).

    Callbacks of a rolled-back unit of work never run, so no job is sent for data that is not there.
    """
    session.info.setdefault("after_commit", []).append(callback)


# SQLSTATEs that mean "the database cannot serve this now; the same request later may succeed".
# Class 08 (connection exception) is matched by prefix; https://www.postgresql.org/docs/15/errcodes-appendix.html
_SERVER_GONE = {"57P01", "57P02", "57P03"}  # admin shutdown, crash shutdown, cannot connect now (starting up)
_TIMED_OUT = {"57014"}  # query_canceled: statement_timeout or lock_timeout
_CONTENTION = {"40001", "40P01", "55P03"}  # serialization failure, deadlock, lock not available


def unavailable_from(exc: BaseException, *, during_commit: bool = False) -> ServiceUnavailable | None:
    """The honest 503 for a database error that a retry can cure, or None for any other error.

    Connection lost or refused (a restart, a failover, the network) is told apart from a statement
    that ran out of time or lost a lock race: each gets its own detail, so an operator reading the
    responses sees which it was. A connection lost during COMMIT cannot say whether the commit
    landed, and says so instead of claiming that nothing was saved.
    """
    if isinstance(exc, PoolTimeoutError):
        return ServiceUnavailable("Every database connection is busy; nothing was saved. Retry shortly.",
                                  service="database", reason="busy")
    if not isinstance(exc, DBAPIError):
        return None
    sqlstate = getattr(exc.orig, "sqlstate", None)
    lost = exc.connection_invalidated or (isinstance(exc, OperationalError) and sqlstate is None) \
        or (sqlstate is not None and (sqlstate.startswith("08") or sqlstate in _SERVER_GONE))
    if lost and during_commit:
        return ServiceUnavailable("The database connection was lost while saving; the change may or may not "
                                  "have been saved. Read it back before sending it again.",
                                  service="database", reason="connection_lost_during_commit")
    if lost:
        return ServiceUnavailable("The database is not reachable; nothing was saved. Retry shortly.",
                                  service="database", reason="unreachable")
    if sqlstate in _TIMED_OUT:
        return ServiceUnavailable("The database did not finish this request within its time limit; nothing was "
                                  "saved. Retry later or narrow the request.", service="database", reason="timeout")
    if sqlstate in _CONTENTION:
        return ServiceUnavailable("The request collided with concurrent changes; nothing was saved. Retry.",
                                  service="database", reason="contention", retry_after_s=1)
    return None


def _rollback(session: Session) -> None:
    """Roll back; on a connection that is already gone there is nothing to roll back, and the error
    being handled (not a second one from the dead connection) is the one to report."""
    try:
        session.rollback()
    except DBAPIError:
        logger.warning("rollback on a lost database connection failed; the server discards the transaction")


@contextmanager
def unit_of_work(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """Open a session, commit if the block succeeds, roll back if it raises.

    A database fault a retry can cure becomes `ServiceUnavailable` (503 + Retry-After) rather than a
    500 (see `unavailable_from`). `after_commit` callbacks run only once the commit succeeded, outside
    the error mapping: their failure cannot un-commit the data, so it must not be reported as if
    nothing had been saved (each callback handles its own faults, see `gis.imports.service.enqueue`).
    """
    session = session_factory()
    committing = False
    try:
        try:
            yield session
            session.flush()  # a failure here is before COMMIT: certainly nothing saved
            committing = True
            session.commit()
        except DBAPIError as exc:
            _rollback(session)
            mapped = unavailable_from(exc, during_commit=committing)
            if mapped is None:
                raise
            raise mapped from exc
        except PoolTimeoutError as exc:
            _rollback(session)
            raise unavailable_from(exc) from exc  # type: ignore[misc]
        except BaseException:
            _rollback(session)
            raise
        callbacks = session.info.pop("after_commit", [])
        for callback in callbacks:
            callback()
    finally:
        session.close()
