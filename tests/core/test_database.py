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
