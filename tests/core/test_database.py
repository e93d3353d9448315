"""Session settings every application connection starts with."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import Engine, make_url, text

from core.database import create_db_engine, create_job_engine, create_session_factory, unit_of_work
from core.errors import ServiceUnavailable
from core.settings import JobSettings, Settings


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


def test_jobs_run_with_their_own_statement_timeout_and_requests_keep_theirs(settings: Settings) -> None:
    """A whole-network job must never run into a request's limit, and a request must not inherit a job's."""
    requests = settings.database.model_copy(update={"statement_timeout_ms": 1_500})
    api, job = create_db_engine(requests), create_job_engine(requests, JobSettings(statement_timeout_ms=456_000))
    try:
        with api.connect() as conn:
            assert conn.execute(text("SHOW statement_timeout")).scalar() == "1500ms"
        with job.connect() as conn:
            assert conn.execute(text("SHOW statement_timeout")).scalar() == "456s"
    finally:
        api.dispose()
        job.dispose()


def test_a_statement_timeout_is_reported_as_a_timeout_naming_the_work_and_its_limit(settings: Settings) -> None:
    engine = create_db_engine(settings.database, statement_timeout_ms=200)
    try:
        with pytest.raises(ServiceUnavailable) as caught, \
                unit_of_work(create_session_factory(engine), work="The nightly check") as db:
            db.execute(text("SELECT pg_sleep(5)"))
    finally:
        engine.dispose()

    problem = caught.value
    assert problem.extra["reason"] == "timeout" and problem.extra["limit_ms"] == 200
    assert problem.detail.startswith("The nightly check ran past its time limit")
    assert "200 ms" in problem.detail and "GW_JOBS_STATEMENT_TIMEOUT_MS" in problem.detail
    assert "not reachable" not in problem.detail



def test_the_application_role_itself_runs_without_jit_whatever_the_client(settings: Settings) -> None:
    """Any client logging in as the application role (psql, a report tool, a pool without
    GridWarden's session set-up) gets jit off from the role (`ALTER ROLE ... SET jit = off`,
    devstack/provisioning.py; measured by `./gw bench jit`)."""
    url = make_url(settings.database.url.get_secret_value()).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False)) as conn:
        assert conn.execute("SHOW jit").fetchone() == ("off",)
        assert "jit=off" in (conn.execute("SELECT rolconfig FROM pg_roles WHERE rolname = current_user")
                             .fetchone() or [[]])[0]
