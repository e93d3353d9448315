"""`./gw import geo` and `./gw import resume`: a file imported from the command line is an import job
like an upload through the API, written in committed chunks with its progress printed, and a run
stopped part-way continues after its last committed chunk.

The stop is real: a session holds a row lock on a line of the third chunk, so that chunk's update
waits until the jobs' statement timeout (2 s here) cancels it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import Engine, text

from core.storage import ObjectStorage
from tests.jobs import gw, import_job, lines_geojson

ROOT = Path(__file__).resolve().parents[3]
ROWS, CHUNK = 50, 20
TIMEOUT_MS = 2_000
LIMITS = {"GW_IMPORTS_CHUNK_ROWS": str(CHUNK), "GW_JOBS_STATEMENT_TIMEOUT_MS": str(TIMEOUT_MS),
          "GW_DATABASE_STATEMENT_TIMEOUT_MS": "60000"}


def lines_file(directory: Path, *, kv: int, bad_row: int | None = None) -> Path:
    path = directory / f"lines-{kv}kv{'-bad' if bad_row is not None else ''}.geojson"
    path.write_bytes(lines_geojson(ROWS, kv=kv, bad_row=bad_row))
    return path


def last_job(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT max(id) FROM import_jobs")).scalar_one())


def kv_by_line(engine: Engine) -> dict[str, float]:
    with engine.connect() as conn:
        return {row[0]: float(row[1]) for row in conn.execute(text("SELECT external_id, nominal_kv FROM lines"))}


def test_a_file_imported_from_the_command_line_is_a_job_with_its_file_stored_and_its_chunks_printed(
        owner_engine: Engine, storage: ObjectStorage, tmp_path: Path) -> None:
    path = lines_file(tmp_path, kv=10)

    done = gw("import", "geo", "lines", str(path), **LIMITS)

    assert done.returncode == 0, done.stderr
    job_id = last_job(owner_engine)
    assert f"import job {job_id}: lines from {path.name}" in done.stdout
    assert f"{CHUNK} of {ROWS} rows written" in done.stdout and f"{2 * CHUNK} of {ROWS} rows written" in done.stdout
    assert f"import job {job_id}: {ROWS} created, 0 updated, 0 unchanged" in done.stdout
    row = import_job(owner_engine, job_id)
    assert (row["kind"], row["layer"], row["status"], row["created_by"]) == ("geo", "lines", "succeeded", "system:import")
    assert row["counts"] == {"total": ROWS, "created": ROWS, "updated": 0, "unchanged": 0}
    # The job's file is the file given, byte for byte, in the imports bucket: the staged copy a re-run reads.
    stored = storage.get_bytes(bucket=storage.settings.imports_bucket, key=row["object_key"])
    assert stored == path.read_bytes() and row["source_sha256"] == hashlib.sha256(stored).hexdigest()
    assert set(kv_by_line(owner_engine).values()) == {10.0}
    with owner_engine.connect() as conn:
        actions = list(conn.execute(text("SELECT action FROM audit_log WHERE entity_type = 'import_job' "
                                         "AND entity_id = :id ORDER BY id"), {"id": str(job_id)}).scalars())
    assert actions == ["import.queued", "import.started", "import.succeeded"]


def test_a_file_with_a_bad_row_writes_nothing_and_the_command_names_the_row(
        owner_engine: Engine, tmp_path: Path) -> None:
    refused = gw("import", "geo", "lines", str(lines_file(tmp_path, kv=10, bad_row=7)), **LIMITS)

    assert refused.returncode == 1
    assert f"import job {last_job(owner_engine)} failed" in refused.stderr
    assert "'row': 7" in refused.stderr and "nominal_kv" in refused.stderr
    assert "resume" not in refused.stderr  # a bad file needs correcting, not another run
    assert kv_by_line(owner_engine) == {}


def test_an_import_stopped_by_a_timeout_says_so_and_resume_continues_after_its_last_committed_chunk(
        owner_engine: Engine, tmp_path: Path) -> None:
    assert gw("import", "geo", "lines", str(lines_file(tmp_path, kv=10)), **LIMITS).returncode == 0
    with owner_engine.connect() as holder:  # a row of the third chunk, locked as an editor's save would
        holder.execute(text("SELECT id FROM lines WHERE external_id = :id FOR UPDATE"), {"id": f"C-{2 * CHUNK + 5}"})
        stopped = gw("import", "geo", "lines", str(lines_file(tmp_path, kv=20)), **LIMITS)
        holder.rollback()

    job_id = last_job(owner_engine)
    assert stopped.returncode == 1
    assert f"time limit on the database (statement_timeout, {TIMEOUT_MS:,} ms)" in stopped.stderr
    assert "not reachable" not in stopped.stderr
    assert f"./gw import resume {job_id}" in stopped.stderr
    assert import_job(owner_engine, job_id)["status"] == "failed"
    kv = kv_by_line(owner_engine)
    assert sorted(name for name, value in kv.items() if value == 20.0) == sorted(f"C-{i}" for i in range(2 * CHUNK))

    resumed = gw("import", "resume", str(job_id), **LIMITS)

    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming after row {2 * CHUNK} of {ROWS}" in resumed.stdout  # after the two committed chunks
    assert f"import job {job_id}: 0 created, {ROWS} updated, 0 unchanged" in resumed.stdout
    assert set(kv_by_line(owner_engine).values()) == {20.0}
    row = import_job(owner_engine, job_id)
    assert (row["status"], row["attempts"]) == ("succeeded", 2)
    with owner_engine.connect() as conn:  # each line updated once by this job: nothing written twice
        assert conn.execute(text("SELECT count(*) FROM audit_log WHERE action = 'line.update'")).scalar_one() == ROWS


def test_resume_refuses_a_job_that_has_succeeded(owner_engine: Engine, tmp_path: Path) -> None:
    assert gw("import", "geo", "lines", str(lines_file(tmp_path, kv=10)), **LIMITS).returncode == 0

    again = gw("import", "resume", str(last_job(owner_engine)), **LIMITS)

    assert again.returncode == 1 and "nothing left to run: it has succeeded" in again.stderr
