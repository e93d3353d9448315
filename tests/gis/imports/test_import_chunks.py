"""Imports in committed chunks, as an operator relies on them at a province's size (issue 14).

The SimBench demo subnet (MV1.101 with its LV grids) is imported in chunks of a few hundred rows per
layer, each chunk its own transaction with its resume point and progress on the job row:
- it gives exactly the rows an import in one chunk per layer gives;
- the job's committed progress rises chunk by chunk, and the job ends saying what changed;
- a chunk that times out (a lock held on `customers`, the last layer, and a jobs' statement timeout
  of 5 s) fails the job saying it was a timeout, with every earlier chunk kept; running the import
  again continues after the last committed chunk: each row inserted once, totals of one clean run;
- a re-import changes nothing and says so;
- a GeoJSON file with one bad row writes nothing and reports the row; a good one imported as a job
  in chunks commits chunk by chunk and a re-run of a job stopped mid-way continues after its last chunk.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text

from core.context import Actor
from core.database import create_job_engine, create_session_factory, unit_of_work
from core.errors import InvalidInput, ServiceUnavailable
from core.settings import ApiSettings, JobSettings, Settings
from gis.imports import geofile
from gis.imports import service as job_service
from gis.imports.simbench import DEMO_SUBNET, LAYERS, SimbenchReport, default_source_dir, import_simbench
from tests.conftest import truncate_data
from tests.jobs import import_job, lines_geojson

CHUNK_ROWS = 700
# Far above any statement of a 700-row chunk of the demo subnet, even on a loaded shared machine (the
# zones of a chunk of lines take well under a second alone), and far below a test's patience.
TIMEOUT_MS = 5_000
TABLES = {"substations": "substations", "nodes": "network_nodes", "transformers": "transformers",
          "lines": "lines", "poles": "poles", "switches": "switches", "customers": "customers"}
# What a row is, per table, apart from its generated id: the attributes and geometry the import sets.
SNAPSHOTS = {
    "substations": "external_id, name, subnet, nominal_kv, ST_AsText(geom), version",
    "network_nodes": "external_id, node_type, nominal_kv, subnet, is_source, ST_AsText(geom), "
                     "(SELECT external_id FROM substations s WHERE s.id = substation_id)",
    "transformers": "external_id, type_name, rated_kva, subnet, ST_AsText(geom), version, "
                    "(SELECT external_id FROM network_nodes n WHERE n.id = lv_node_id)",
    "lines": "external_id, construction, nominal_kv, conductor_spread_m, feeder, ST_AsText(geom), version, "
             "(SELECT external_id FROM network_nodes n WHERE n.id = node_a_id)",
    "poles": "external_id, kind, nominal_kv, ST_AsText(geom), version",
    "switches": "external_id, switch_type, is_open, ST_AsText(geom), version",
    "customers": "external_id, account_number, category, contracted_load_kw, ST_AsText(geom), version, "
                 "(SELECT external_id FROM transformers t WHERE t.id = transformer_id)",
}


def _scalar(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def _snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        rows = {table: sorted(tuple(r) for r in conn.execute(text(f"SELECT {columns} FROM {table}")))
                for table, columns in SNAPSHOTS.items()}
        rows["line_zones"] = sorted(tuple(r) for r in conn.execute(text(
            "SELECT l.external_id, z.setting, ST_AsText(ST_SnapToGrid(z.geom, 1e-9)) FROM line_zones z "
            "JOIN lines l ON l.id = z.line_id")))
    return rows


def _simbench_job(engine: Engine) -> int:
    return int(_scalar(engine, "SELECT max(id) FROM import_jobs WHERE kind = 'simbench'"))


def _import(engine: Engine, actor: Actor, chunk_rows: int, progress: Any = None) -> SimbenchReport:
    return import_simbench(engine=engine, source_dir=default_source_dir(), subnet=DEMO_SUBNET, actor=actor,
                           chunk_rows=chunk_rows, progress=progress)


@pytest.fixture
def job_engine(settings: Settings) -> Iterator[Engine]:
    """A job engine with a short statement timeout, for the tests that stop an import with it."""
    engine = create_job_engine(settings.database, JobSettings(statement_timeout_ms=TIMEOUT_MS))
    yield engine
    engine.dispose()


@pytest.fixture
def roomy_job_engine(settings: Settings) -> Iterator[Engine]:
    """A job engine with the shipped jobs' timeout, for the tests in which no statement is meant to stop."""
    engine = create_job_engine(settings.database, JobSettings())
    yield engine
    engine.dispose()


def test_an_import_in_small_chunks_gives_the_rows_of_one_chunk_per_layer_with_progress_chunk_by_chunk(
        owner_engine: Engine, roomy_job_engine: Engine, system_actor: Actor) -> None:
    job_engine = roomy_job_engine
    whole = _import(job_engine, system_actor, chunk_rows=1_000_000)
    in_one = _snapshot(owner_engine)
    truncate_data(owner_engine)

    committed: list[tuple[float, dict[str, int]]] = []

    def observe(_fraction: float, _message: str) -> None:
        """Called after each chunk commits: what any other session now sees on the job row."""
        job_id = _simbench_job(owner_engine)
        job = import_job(owner_engine, job_id)
        committed.append((job["progress"], dict(job["counts"].get("through", {}))))

    report = _import(job_engine, system_actor, chunk_rows=CHUNK_ROWS, progress=observe)

    assert _snapshot(owner_engine) == in_one
    assert report.counts() == whole.counts()
    rows = {layer: getattr(report, layer) for layer, _, _ in LAYERS}
    chunks = sum(math.ceil(n / CHUNK_ROWS) for n in rows.values())
    assert rows["customers"] > 3 * CHUNK_ROWS  # the test exercises several chunks of one layer
    # One observation after staging, one per chunk, one at the end; each chunk moved the committed
    # resume point on by one chunk of one layer and the progress up.
    per_chunk = committed[1:1 + chunks]
    assert len(committed) == chunks + 2
    progress = [p for p, _ in per_chunk]
    assert progress == sorted(progress) and len(set(progress)) == chunks and progress[-1] < 1.0
    written = [sum(through.values()) for _, through in per_chunk]
    assert all(0 < b - a <= CHUNK_ROWS for a, b in zip([0, *written], written, strict=False))
    job = import_job(owner_engine, _simbench_job(owner_engine))
    assert job["status"] == "succeeded" and job["progress"] == 1.0
    assert job["counts"]["changed"] == rows  # every row inserted once
    assert "rows inserted or updated" in job["message"]
    assert _scalar(owner_engine, "SELECT count(*) FROM import_staging_rows") == 0


def test_a_chunk_that_times_out_fails_the_job_and_the_next_run_continues_after_the_last_chunk(
        owner_engine: Engine, job_engine: Engine, system_actor: Actor) -> None:
    revision_before = _scalar(owner_engine, "SELECT revision FROM topology_state WHERE id = 1")
    with owner_engine.connect() as blocker:
        blocker.execute(text("LOCK TABLE customers IN SHARE MODE"))  # an insert into customers waits for it
        with pytest.raises(ServiceUnavailable) as stopped:
            _import(job_engine, system_actor, chunk_rows=CHUNK_ROWS)
        blocker.rollback()

    assert stopped.value.extra["reason"] == "timeout" and stopped.value.extra["limit_ms"] == TIMEOUT_MS
    job_id = _simbench_job(owner_engine)
    failed = import_job(owner_engine, job_id)
    assert failed["status"] == "failed" and "time limit" in failed["message"]
    assert "customers rows 1 to" in failed["message"] and "continue after its last committed chunk" in failed["message"]
    lines = failed["counts"]["rows"]["lines"]
    assert failed["counts"]["through"]["lines"] == lines and failed["counts"]["through"]["customers"] == 0
    assert _scalar(owner_engine, "SELECT count(*) FROM lines") == lines  # the chunks before are kept
    assert _scalar(owner_engine, "SELECT count(*) FROM customers") == 0
    # A trace's cached graph has not been told to reload: the import is not complete.
    assert _scalar(owner_engine, "SELECT revision FROM topology_state WHERE id = 1") == revision_before

    report = _import(job_engine, system_actor, chunk_rows=CHUNK_ROWS)

    done = import_job(owner_engine, job_id)
    assert done["status"] == "succeeded" and done["attempts"] == 2  # the same job, continued
    rows = {layer: getattr(report, layer) for layer, _, _ in LAYERS}
    assert done["counts"]["changed"] == rows  # totals of one clean run: nothing written twice
    for layer, table in TABLES.items():
        assert _scalar(owner_engine, f"SELECT count(*) FROM {table}") == rows[layer], table
        assert _scalar(owner_engine, f"SELECT count(DISTINCT external_id) FROM {table}") == rows[layer], table
    assert _scalar(owner_engine, "SELECT count(*) FROM customers WHERE version <> 1") == 0
    assert _scalar(owner_engine, "SELECT count(DISTINCT line_id) FROM line_zones") == rows["lines"]
    assert _scalar(owner_engine, "SELECT revision FROM topology_state WHERE id = 1") > revision_before
    assert _scalar(owner_engine, "SELECT count(*) FROM import_staging_rows") == 0
    assert _scalar(owner_engine, "SELECT count(*) FROM audit_log WHERE action = 'import.simbench'") == 1


def test_a_re_import_changes_nothing_and_says_so(owner_engine: Engine, roomy_job_engine: Engine,
                                                  system_actor: Actor) -> None:
    _import(roomy_job_engine, system_actor, chunk_rows=CHUNK_ROWS)
    before = _snapshot(owner_engine)

    _import(roomy_job_engine, system_actor, chunk_rows=CHUNK_ROWS)

    job = import_job(owner_engine, _simbench_job(owner_engine))
    assert job["status"] == "succeeded" and "nothing changed" in job["message"]
    assert set(job["counts"]["changed"].values()) == {0}
    assert _snapshot(owner_engine) == before


def _lines_file(rows: int, *, bad_row: int | None = None) -> geofile.SourceFeatures:
    return geofile.read_source(lines_geojson(rows, bad_row=bad_row), "lines.geojson")


def _geo_job(engine: Engine, actor: Actor) -> int:
    with unit_of_work(create_session_factory(engine)) as db:
        job = job_service.create_simbench_job(db=db, actor=actor, subnet=None)
        job.kind, job.layer, job.source_name = "geo", "lines", "lines.geojson"
        return job.id


def _geo_import(engine: Engine, actor: Actor, job_id: int, source: geofile.SourceFeatures,
                settings: ApiSettings, chunk_rows: int) -> geofile.GeoImportReport:
    def finish(db: Any, report: geofile.GeoImportReport) -> None:
        job_service.finish(db=db, job_id=job_id, succeeded=True, counts=dict(report.counts()), message="done")

    return geofile.import_features_in_chunks(
        session_factory=create_session_factory(engine), job_id=job_id, actor=actor,
        layer=geofile.layer_by_name("lines"), source=source, settings=settings, chunk_rows=chunk_rows,
        finish=finish)


def test_a_geo_file_with_a_bad_row_writes_nothing_and_a_stopped_one_continues_after_its_last_chunk(
        owner_engine: Engine, job_engine: Engine, system_actor: Actor, settings: Settings) -> None:
    rows, chunk = 50, 20
    job_id = _geo_job(owner_engine, system_actor)
    with pytest.raises(InvalidInput) as bad:
        _geo_import(job_engine, system_actor, job_id, _lines_file(rows, bad_row=rows - 1), settings.api, chunk)
    assert [(e["row"], e["field"]) for e in bad.value.errors] == [(rows - 1, "nominal_kv")]
    assert _scalar(owner_engine, "SELECT count(*) FROM lines") == 0

    # The same job, good file, stopped in its third chunk: once two chunks have committed, a lock
    # on `lines` makes the third chunk's insert wait until the jobs' statement timeout cancels it.
    good = _lines_file(rows)
    committed: list[int] = []
    with owner_engine.connect() as blocker:
        def lock_after_two_chunks(_fraction: float, _message: str) -> None:
            committed.append(int(_scalar(owner_engine, "SELECT count(*) FROM lines")))
            if len(committed) == 2:
                blocker.execute(text("LOCK TABLE lines IN SHARE MODE"))

        with pytest.raises(ServiceUnavailable) as stopped:
            geofile.import_features_in_chunks(
                session_factory=create_session_factory(job_engine), job_id=job_id, actor=system_actor,
                layer=geofile.layer_by_name("lines"), source=good, settings=settings.api, chunk_rows=chunk,
                finish=lambda db, report: None, progress=lock_after_two_chunks)
        blocker.rollback()
    assert committed == [chunk, 2 * chunk]  # each chunk visible to others once it committed
    assert _scalar(owner_engine, "SELECT count(*) FROM lines") == 2 * chunk
    assert stopped.value.extra["reason"] == "timeout"
    assert import_job(owner_engine, job_id)["counts"]["through_row"] == 2 * chunk

    report = _geo_import(job_engine, system_actor, job_id, good, settings.api, chunk)

    assert (report.created, report.updated, report.unchanged) == (rows, 0, 0)
    assert import_job(owner_engine, job_id)["counts"] == {"total": rows, "created": rows, "updated": 0, "unchanged": 0}
    assert _scalar(owner_engine, "SELECT count(DISTINCT external_id) FROM lines") == rows
    assert _scalar(owner_engine, "SELECT count(*) FROM lines") == rows
    assert _scalar(owner_engine, "SELECT count(*) FROM audit_log WHERE action = 'line.create'") == rows
