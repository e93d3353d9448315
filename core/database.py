"""Engine and session factories, and the unit of work that owns each transaction.

One `UnitOfWork` per HTTP request, Celery task or CLI command: it commits once at the end when the
work succeeded and rolls back otherwise. Services receive its `Session` and never commit themselves,
so a change and its audit record and outbox event land together or not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, sessionmaker

from core.errors import ServiceUnavailable
from core.outbox import EVENT_HANDLERS, EventHandlers
from core.settings import DatabaseSettings, JobSettings

logger = logging.getLogger(__name__)


# The statement timeout each engine's connections run with, so a timeout can be reported with its limit.
_STATEMENT_TIMEOUT_MS: WeakKeyDictionary[Engine, int] = WeakKeyDictionary()


def create_db_engine(settings: DatabaseSettings, *, statement_timeout_ms: int | None = None) -> Engine:
    """The application role's engine. Its connections run with the request statement timeout
    (`settings.statement_timeout_ms`) unless `statement_timeout_ms` is given: a job's engine
    (`create_job_engine`) has its own limit, so whole-network work never depends on a request's."""
    engine = create_engine(
        settings.url.get_secret_value(),
        pool_size=settings.pool_size,
        max_overflow=settings.pool_size,
        pool_pre_ping=True,
        pool_timeout=10,
        connect_args={"connect_timeout": 5},
    )
    timeout_ms = int(statement_timeout_ms if statement_timeout_ms is not None else settings.statement_timeout_ms)
    _STATEMENT_TIMEOUT_MS[engine] = timeout_ms
    jit = "on" if settings.jit else "off"

    @event.listens_for(engine, "connect")
    def _session_defaults(dbapi_connection, _record) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {timeout_ms}")
            cursor.execute("SET TIME ZONE 'UTC'")
            cursor.execute(f"SET jit = {jit}")
        dbapi_connection.commit()

    return engine


# A job runs its chunks one after another: one connection for them, one holding its lease, one for progress.
JOB_POOL_SIZE = 3


def create_job_engine(settings: DatabaseSettings, jobs: JobSettings) -> Engine:
    """The engine of a whole-network job (CLI or worker): the job's statement timeout, a small pool."""
    return create_db_engine(settings.model_copy(update={"pool_size": min(settings.pool_size, JOB_POOL_SIZE)}),
                            statement_timeout_ms=jobs.statement_timeout_ms)


def statement_timeout_ms(engine: Engine) -> int | None:
    """The statement timeout `engine`'s connections were set up with (None for a foreign engine)."""
    return _STATEMENT_TIMEOUT_MS.get(engine)


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


def _cancelled_by_timeout(exc: DBAPIError) -> bool:
    """SQLSTATE 57014 is both the statement timeout and a cancel request (pg_cancel_backend); the
    server's message tells them apart. (A lock_timeout is 55P03, reported as contention.)"""
    diag = getattr(exc.orig, "diag", None)
    primary = (getattr(diag, "message_primary", None) or str(exc.orig) or "").lower()
    return "statement timeout" in primary


def timeout_error(exc: DBAPIError, *, work: str, limit_ms: int | None) -> ServiceUnavailable:
    """The 503 for a cancelled statement, saying what was cancelled, by which limit, and what to do."""
    if _cancelled_by_timeout(exc):
        limit = f", {limit_ms:,} ms" if limit_ms is not None else ""
        what = f"{work} ran past its time limit on the database (statement_timeout{limit}) and was cancelled"
        cause = "statement"
    else:
        what = f"{work} was cancelled on the database server (an operator's cancel request)"
        cause, limit_ms = "cancel", None
    return ServiceUnavailable(
        f"{what}; nothing of it was saved. Retry later or narrow the request; a whole-network job "
        "(zone rebuild, import) has its own limit, GW_JOBS_STATEMENT_TIMEOUT_MS, and resumes where it stopped.",
        service="database", reason="timeout", timeout=cause, limit_ms=limit_ms)


def unavailable_from(exc: BaseException, *, during_commit: bool = False, work: str = "The request",
                     limit_ms: int | None = None) -> ServiceUnavailable | None:
    """The honest 503 for a database error that a retry can cure, or None for any other error.

    Connection lost or refused (a restart, a failover, the network) is told apart from a statement
    that ran out of time or lost a lock race: each gets its own detail, so an operator reading the
    responses sees which it was. A connection lost during COMMIT cannot say whether the commit
    landed, and says so instead of claiming that nothing was saved. A statement the server cancelled
    (SQLSTATE 57014) is a timeout even when the driver also marks the connection unusable
    afterwards: the server answered, so it was reachable. `work` names what ran ("The request",
    "Zone rebuild chunk of lines 1-2000") and `limit_ms` the statement timeout it ran under.
    """
    if isinstance(exc, PoolTimeoutError):
        return ServiceUnavailable("Every database connection is busy; nothing was saved. Retry shortly.",
                                  service="database", reason="busy")
    if not isinstance(exc, DBAPIError):
        return None
    sqlstate = getattr(exc.orig, "sqlstate", None)
    lost = exc.connection_invalidated or (isinstance(exc, OperationalError) and sqlstate is None) \
        or (sqlstate is not None and (sqlstate.startswith("08") or sqlstate in _SERVER_GONE))
    if sqlstate in _TIMED_OUT and not (lost and during_commit):
        return timeout_error(exc, work=work, limit_ms=limit_ms)
    if lost and during_commit:
        return ServiceUnavailable("The database connection was lost while saving; the change may or may not "
                                  "have been saved. Read it back before sending it again.",
                                  service="database", reason="connection_lost_during_commit")
    if lost:
        return ServiceUnavailable("The database is not reachable; nothing was saved. Retry shortly.",
                                  service="database", reason="unreachable")
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
def unit_of_work(session_factory: sessionmaker[Session], *, work: str = "The request") -> Iterator[Session]:
    """Open a session, commit if the block succeeds, roll back if it raises.

    A database fault a retry can cure becomes `ServiceUnavailable` (503 + Retry-After) rather than a
    500 (see `unavailable_from`); `work` names what ran, for a timeout's message, together with the
    statement timeout of the session's engine. `after_commit` callbacks run only once the commit
    succeeded, outside the error mapping: their failure cannot un-commit the data, so it must not be
    reported as if nothing had been saved (each callback handles its own faults, see
    `gis.imports.service.enqueue`).
    """
    session = session_factory()
    bind = session_factory.kw.get("bind")
    limit_ms = statement_timeout_ms(bind) if isinstance(bind, Engine) else None
    committing = False
    try:
        try:
            yield session
            session.flush()  # a failure here is before COMMIT: certainly nothing saved
            committing = True
            session.commit()
        except DBAPIError as exc:
            _rollback(session)
            mapped = unavailable_from(exc, during_commit=committing, work=work, limit_ms=limit_ms)
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
