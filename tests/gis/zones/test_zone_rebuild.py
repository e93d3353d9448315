"""A whole-network zone rebuild (`./gw zones rebuild`) as an operator relies on it: it works in
chunks of lines, each its own transaction, reports its progress on a job row, runs under the jobs'
statement timeout (not a request's), says so when a chunk times out, and a second run continues
after the last finished chunk: nothing redone, nothing duplicated.

The network is 25 straight 10 kV overhead lines without a spread (default 3.0 m, so one general
zone each) and chunks of 7 lines: chunks end at line ids 7, 14, 21 and 25. A chunk is made to time
out by holding a row lock on one of its lines from another connection, which the chunk's
`FOR SHARE` read waits for until the jobs' statement timeout cancels it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session, sessionmaker

from core.context import Actor
from core.database import create_job_engine, create_session_factory, unit_of_work
from core.errors import Conflict, ServiceUnavailable
from core.settings import JobSettings, Settings
from gis.imports.lease import job_lease
from gis.zones import service as zone_service
from tests.jobs import gw, import_job

ROOT = Path(__file__).resolve().parents[3]
LINES = 25
CHUNK = 7
TIMEOUT_MS = 300
SECOND_CHUNK_LINE = 10  # inside the chunk of ids 8-14


@pytest.fixture
def network(owner_engine: Engine) -> list[int]:
    """25 lines 0.001° apart, without zones yet (inserted as raw rows, as a bulk load would)."""
    with owner_engine.begin() as conn:
        ids = conn.execute(text("""
            INSERT INTO lines (external_id, name, construction, nominal_kv, conductor_type,
                               conductor_spread_is_default, geom)
            SELECT 'rebuild-' || n, '', 'overhead', 10, '', false,
                   ST_SetSRID(ST_MakeLine(ST_MakePoint(117.0, 31.0 + n * 0.001),
                                          ST_MakePoint(117.01, 31.0 + n * 0.001)), 4326)
              FROM generate_series(1, :n) AS n ORDER BY n RETURNING id"""), {"n": LINES}).scalars().all()
    assert list(ids) == list(range(1, LINES + 1))
    return list(ids)


@pytest.fixture
def job_engine(settings: Settings) -> Iterator[Engine]:
    engine = create_job_engine(settings.database, JobSettings(statement_timeout_ms=TIMEOUT_MS))
    yield engine
    engine.dispose()


def rebuild(engine: Engine, reports: list[zone_service.RebuildProgress] | None = None) -> zone_service.RebuildProgress:
    return zone_service.run_rebuild(session_factory=create_session_factory(engine), engine=engine,
                                    actor=Actor.system("test"), chunk_lines=CHUNK, worker="test:1",
                                    report=None if reports is None else reports.append)


def zones_by_line(engine: Engine) -> dict[int, list[int]]:
    """line id -> ids of its zone rows."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT line_id, id FROM line_zones ORDER BY line_id, id")).all()
    found: dict[int, list[int]] = {}
    for line_id, zone_id in rows:
        found.setdefault(line_id, []).append(zone_id)
    return found


def zone_shapes(engine: Engine) -> dict[int, str]:
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT line_id, ST_AsText(ST_SnapToGrid(geom, 1e-9)) FROM line_zones")).all())


def lock_line(conn: Connection, line_id: int) -> None:
    conn.execute(text("SELECT 1 FROM lines WHERE id = :id FOR UPDATE"), {"id": line_id})


def test_a_rebuild_in_chunks_gives_every_line_the_zones_one_transaction_gives_and_reports_each_chunk(
    network: list[int], job_engine: Engine, owner_engine: Engine, session_factory: sessionmaker[Session],
) -> None:
    with owner_engine.begin() as conn:
        conn.execute(text("UPDATE lines SET deleted_at = now() WHERE id = 3"))  # its old zone must go
    with unit_of_work(session_factory) as db:
        zone_service.rebuild_all_zones(db=db)
    in_one_transaction = zone_shapes(owner_engine)
    reports: list[zone_service.RebuildProgress] = []

    done = rebuild(job_engine, reports)

    assert zone_shapes(owner_engine) == in_one_transaction and 3 not in in_one_transaction
    assert [r.through_line_id for r in reports] == [0, 7, 14, 21, 25]
    assert [round(r.fraction, 3) for r in reports] == [0.0, round(7 / 25, 3), round(14 / 25, 3), round(21 / 25, 3), 1.0]
    assert done.zone_parts == LINES - 1
    job = import_job(owner_engine, done.job_id)
    assert job["kind"] == "zones" and job["status"] == "succeeded" and job["progress"] == 1.0
    assert job["counts"] == {"through_line_id": 25, "lines_done": 25, "lines_total": 25, "zone_parts": LINES - 1}


def test_a_chunk_that_times_out_fails_the_job_saying_so_and_the_next_run_continues_after_the_last_chunk(
    network: list[int], job_engine: Engine, owner_engine: Engine,
) -> None:
    with owner_engine.connect() as holder:
        lock_line(holder, SECOND_CHUNK_LINE)
        with pytest.raises(ServiceUnavailable) as caught:
            rebuild(job_engine)
        holder.rollback()

    problem = caught.value
    assert problem.extra["reason"] == "timeout" and problem.extra["limit_ms"] == TIMEOUT_MS
    assert "lines after id 7 through 14" in problem.detail and f"{TIMEOUT_MS} ms" in problem.detail
    assert "through id 7" in problem.detail and "./gw zones rebuild" in problem.detail
    assert "not reachable" not in problem.detail
    job_id = problem.extra["job"]
    failed = import_job(owner_engine, job_id)
    assert failed["status"] == "failed" and failed["message"] == problem.detail[:500]
    assert failed["counts"]["through_line_id"] == 7
    first_chunk = zones_by_line(owner_engine)
    assert sorted(first_chunk) == list(range(1, 8))  # the first chunk committed, the second nothing

    reports: list[zone_service.RebuildProgress] = []
    done = rebuild(job_engine, reports)

    assert done.job_id == job_id and reports[0].resumed and reports[0].through_line_id == 7
    after = zones_by_line(owner_engine)
    assert sorted(after) == network and all(len(zones) == 1 for zones in after.values())  # none twice
    assert {line: after[line] for line in range(1, 8)} == first_chunk  # the first chunk was not redone
    resumed = import_job(owner_engine, job_id)
    assert resumed["status"] == "succeeded" and resumed["attempts"] == 2
    assert resumed["counts"]["zone_parts"] == LINES


def test_a_second_rebuild_while_one_runs_is_refused_and_changes_nothing(
    network: list[int], job_engine: Engine, owner_engine: Engine,
) -> None:
    with unit_of_work(create_session_factory(job_engine)) as db:
        job_id = zone_service.open_rebuild_job(db=db, actor=Actor.system("test"))
    with job_lease(owner_engine, job_id) as taken:
        assert taken
        with pytest.raises(Conflict, match=f"zone rebuild \\(job {job_id}\\) is already running"):
            rebuild(job_engine)
    assert zones_by_line(owner_engine) == {}


def test_the_cli_prints_progress_says_a_timeout_is_a_timeout_and_continues_when_run_again(
    network: list[int], owner_engine: Engine,
) -> None:
    # The request limit is far above the job's: the message must name the job's.
    limits = {"GW_JOBS_STATEMENT_TIMEOUT_MS": str(TIMEOUT_MS), "GW_DATABASE_STATEMENT_TIMEOUT_MS": "60000",
              "GW_JOBS_ZONE_CHUNK_LINES": str(CHUNK)}
    with owner_engine.connect() as holder:
        lock_line(holder, SECOND_CHUNK_LINE)
        stopped = gw("zones", "rebuild", **limits)
        holder.rollback()

    assert stopped.returncode == 1
    assert "zones:  28.0%  7/25 lines" in stopped.stdout
    assert f"time limit on the database (statement_timeout, {TIMEOUT_MS} ms)" in stopped.stderr
    assert "run the rebuild again (./gw zones rebuild) to continue" in stopped.stderr
    assert "not reachable" not in stopped.stderr

    resumed = gw("zones", "rebuild", **limits)

    assert resumed.returncode == 0, resumed.stderr
    assert "resuming after line id 7" in resumed.stdout and "100.0%  25/25 lines" in resumed.stdout
    assert sorted(zones_by_line(owner_engine)) == network
