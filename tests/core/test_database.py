"""Session settings every application connection starts with."""

from __future__ import annotations

from sqlalchemy import Engine, text

from core.database import create_db_engine
from core.settings import Settings


def test_application_connections_run_without_jit_compilation(app_engine: Engine) -> None:
    """A map page of a thousand customers in a dense area passes PostgreSQL's JIT cost threshold;
    compiling it then cost more than running it (5-15 ms on a 12 ms query), so it is off."""
    with app_engine.connect() as conn:
        assert conn.execute(text("SHOW jit")).scalar() == "off"


def test_jit_can_be_turned_back_on_by_setting(settings: Settings) -> None:
    engine = create_db_engine(settings.database.model_copy(update={"jit": True}))
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SHOW jit")).scalar() == "on"
    finally:
        engine.dispose()


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_pooled_connection_the_server_closed_while_idle_is_replaced_not_failed(settings: Settings,
                                                                                app_engine: Engine) -> None:
    """After a restart or an idle timeout, the next request gets a live connection, not a 503."""
    engine = create_db_engine(settings.database.model_copy(update={"ping_after_idle_s": 0, "pool_size": 1}))
    try:
        closed = _backend_pid(engine)
        with app_engine.connect() as other:  # as a restart or an idle timeout would
            assert other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": closed}).scalar_one()
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert pid != closed
    finally:
        engine.dispose()
