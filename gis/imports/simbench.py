"""Importing a SimBench benchmark grid (https://simbench.de) as GridWarden network and customer data.

SimBench ships German benchmark grids from EHV to LV with WGS84 coordinates as `;`-separated CSV.
`import_simbench` loads one data set (by default the complete one inside the installed `simbench`
package) as a job in committed chunks: the whole plan is staged first (one transaction), then each
layer is upserted by `external_id` (the SimBench `id`) in set-based statements of a few thousand
rows, each chunk committing its resume point on the job; a failed import continues after its last
chunk. A repeated import changes nothing except rows whose attributes really changed (those get
`version + 1` and a new `updated_at`), and says so.

How SimBench maps onto the schema, including what had to be derived or invented (thresholds named
here live, with their sources, in gis/data/simbench_mapping.json):

- Nodes -> `network_nodes` (nominal_kv = `vmR`, node_type = `type`, geometry from Coordinates).
- Substations -> `substations`, located at the centroid of all their nodes in the data set; a
  substation without any located node is skipped (and counted).
- Transformers -> `transformers` (rated_kva = TransformerType `sR` x 1000), located at the LV node.
- Lines -> `lines` (`ohl` line types are overhead, others cable). SimBench has no conductor
  geometry, so overhead lines get the per-voltage typical spread from
  `gis/data/conductor_spread_defaults.json` with `conductor_spread_is_default = true`; those values
  are design rules of thumb, NOT legal values, and must be replaced by the utility's asset data.
  Lines whose end nodes have no coordinates or coincide (zero length) are skipped and counted.
- Poles: SimBench has none. One support is DERIVED per distinct end node of an overhead line that is
  not inside a substation: a `tower` from `tower_min_kv` up, else a `pole`, external_id `pole:<node id>`,
  at the node's point. Real spans have many more supports; these only mark the known line vertices.
- Switches -> `switches` (`cond` 1 closed, 0 open; the state in the data is also the normal state).
- Customers: a Load becomes a customer only on an LV node (voltLvl 7) and when its subnet has no
  `_eq` (those equivalent loads stand for whole LV grids; counted as skipped). Account and meter
  numbers are derived from the load id (sha1) so they are stable across imports. Commercial loads from `key_account_min_kw` up are key accounts. The contact phone
  is SYNTHETIC (`+49 30 555` + 4 digits from a hash of the id): SimBench has no customer contact
  data, and no real person should be reachable through a demo data set.
- 台区: each customer's `transformer_id` is the distribution transformer (LV side below
  `distribution_transformer_max_lv_kv`) that feeds
  it, found by one breadth-first search from all LV sides over lines and closed switches (never
  through a transformer). Customers reachable from none keep NULL.
- Sources: a node with an ExternalNet is marked `is_source` when the grid the equivalent stands for
  (`A_B_eq`: grid B as seen from A) is not part of the import. EHV equivalents are always sources:
  nothing above EHV exists in SimBench, so they stand for the transmission grid outside the data.
  Boundary nodes of a partial import (busbars of a grid above that is not imported) are sources too.

`subnet` selects the elements whose subnet starts with that prefix, every grid fed from them
(recursively, e.g. the LV grids below an MV grid) and the boundary nodes their edges refer to, so
every edge has both ends. `MV1.101` (one rural MV grid with its 90 LV grids, about 5.4k customers)
is the demo set.
"""

from __future__ import annotations

import importlib.util
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy
import sqlalchemy.exc
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.audit import service as audit_service
from core.context import Actor
from core.database import statement_timeout_ms, unavailable_from
from core.errors import Conflict, GridWardenError
from core.settings import JobSettings
from gis.imports import service as job_service
from gis.imports import simbench_model as model
from gis.imports import simbench_plan
from gis.imports import simbench_sql as sql
from gis.imports.lease import job_lease, lease_is_free
from gis.imports.models import ImportJob, JobStatus
from gis.imports.settings import ImportSettings
from gis.network.topology import GraphCache, bump_revision
from gis.zones import service as zone_service

log = logging.getLogger(__name__)

COMPLETE_DATA_SET = "1-complete_data-mixed-all-0-sw"
DEMO_SUBNET = "MV1.101"

Progress = Callable[[float, str], None]
DEFAULT_ZONE_CHUNK_LINES: int = JobSettings.model_fields["zone_chunk_lines"].default
DEFAULT_CHUNK_ROWS: int = ImportSettings.model_fields["chunk_rows"].default


@dataclass(frozen=True)
class SimbenchReport:
    """Rows in the import set per layer (inserted, updated or unchanged) and what was left out."""

    nodes: int
    substations: int
    transformers: int
    lines: int
    overhead_lines: int
    cables: int
    poles: int
    switches: int
    customers: int
    skipped_equivalent_loads: int
    seconds: float
    sources: int = 0
    skipped_non_lv_loads: int = 0
    skipped_unlocated_loads: int = 0
    skipped_substations: int = 0
    skipped_lines: int = 0
    skipped_transformers: int = 0
    skipped_switches: int = 0
    customers_without_transformer: int = 0
    components_without_source: int = 0
    changed: dict[str, int] = field(default_factory=dict)  # per layer: rows inserted or updated

    def counts(self) -> dict[str, int]:
        """The counts of the import set without the timing or the changes (what the audit record keeps)."""
        return {k: v for k, v in asdict(self).items() if k not in {"seconds", "changed"}}


def default_source_dir() -> Path:
    """The complete SimBench data set inside the installed `simbench` package.

    Found without importing the package (its import pulls in pandas and pandapower).
    """
    spec = importlib.util.find_spec("simbench")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("The simbench package is not installed.")
    return Path(next(iter(spec.submodule_search_locations))) / "networks" / COMPLETE_DATA_SET


# (layer, TEMP staging table, upsert) in writing order: every layer refers only to layers before it.
# Substation points are staged too but written with their substation's chunk (`simbench_sql.load_chunk`).
LAYERS: tuple[tuple[str, str, str], ...] = (
    ("substations", "stg_substation", sql.UPSERT_SUBSTATIONS), ("nodes", "stg_node", sql.UPSERT_NODES),
    ("transformers", "stg_transformer", sql.UPSERT_TRANSFORMERS), ("lines", "stg_line", sql.UPSERT_LINES),
    ("poles", "stg_pole", sql.UPSERT_POLES), ("switches", "stg_switch", sql.UPSERT_SWITCHES),
    ("customers", "stg_customer", sql.UPSERT_CUSTOMERS),
)
POINTS_LAYER, POINTS_TABLE = "substation_points", "stg_substation_point"
STAGED_FRACTION = 0.15  # progress once read, planned and staged; the chunks share the rest up to 0.98
WRITTEN_FRACTION = 0.98


@dataclass
class _JobState:
    """The resume point and running totals kept in the job's `counts` (committed with each chunk)."""

    plan: dict[str, Any]                 # the report's counts, from the staging transaction
    rows: dict[str, int]                 # staged rows per layer
    through: dict[str, int]              # per layer: every staged row up to this seq is written
    changed: dict[str, int]              # per layer: rows inserted or updated by the chunks so far
    zone_parts: int = 0

    def as_counts(self) -> dict[str, Any]:
        return {"plan": self.plan, "rows": self.rows, "through": self.through, "changed": self.changed,
                "zone_parts": self.zone_parts}

    def fraction(self) -> float:
        total = sum(self.rows.values())
        done = sum(self.through.values())
        return STAGED_FRACTION + (WRITTEN_FRACTION - STAGED_FRACTION) * (done / total if total else 1.0)

    @classmethod
    def from_counts(cls, counts: dict[str, Any] | None) -> _JobState | None:
        """None while nothing is staged (a new job, or one whose staging transaction never committed)."""
        if not counts or "plan" not in counts:
            return None
        return cls(plan=dict(counts["plan"]), rows=dict(counts["rows"]), through=dict(counts["through"]),
                   changed=dict(counts["changed"]), zone_parts=int(counts.get("zone_parts", 0)))


def import_simbench(
    *,
    engine: sqlalchemy.Engine,
    source_dir: Path,
    subnet: str | None = None,
    actor: Actor,
    progress: Progress | None = None,
    zone_chunk_lines: int = DEFAULT_ZONE_CHUNK_LINES,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    job_id: int | None = None,
) -> SimbenchReport:
    """Import in committed chunks, as the job `job_id` (an import worker's, which holds its lease),
    or else as the caller's own job: an unfinished SimBench job of the same subnet is resumed (failed,
    or running with its worker gone), otherwise a new one is opened.

    1. Read, plan and validate the whole data set, then stage every row in `import_staging_rows` in
       ONE transaction that also records the plan on the job: nothing reaches the network tables
       before all of it is known to load. (A resumed job skips this: its rows are staged.)
    2. Per layer, chunks of `chunk_rows` rows, each ONE transaction: its upsert, the zones of the
       lines it inserted or changed (in statements of `zone_chunk_lines` lines), and on the job its
       resume point, its changed-row totals and its progress. A chunk that fails leaves every earlier
       chunk committed and the job saying where it stopped; the next run continues after it, so no row
       is written twice and the totals are those of one clean run.
    3. One last transaction bumps the topology revision, audits the import, deletes the staged rows and
       marks the job succeeded: data complete and "succeeded" commit together.

    What a trace sees meanwhile: cached trace graphs reload only when the topology revision moves,
    which happens once, in step 3, so a process that already has its graph keeps the network as it was
    before the import until the import is complete. A process that loads its graph for the first time
    during the import (or after an unrelated topology change meanwhile) sees the chunks committed so
    far, e.g. nodes without their lines yet; the revision bump at the end makes it reload.

    `engine` should be a job engine (`core.database.create_job_engine`): every statement of a chunk
    runs under the jobs' statement timeout, not a request's. Only one SimBench import runs at a time.
    """
    started = time.perf_counter()
    report_progress: Progress = progress or (lambda fraction, message: None)
    with ExitStack() as stack:
        guard = stack.enter_context(engine.connect())
        guard.exec_driver_sql(sql.SERIALIZE_IMPORTS)
        guard.commit()
        stack.callback(_release, guard)
        own_job = job_id is None  # a worker's job records its own failure (gis.imports.runner)
        if job_id is None:
            job_id = _open_own_job(engine=engine, actor=actor, subnet=subnet)
            if not stack.enter_context(job_lease(engine, job_id)):
                raise Conflict(f"SimBench import job {job_id} is running elsewhere; its progress is on the job.")
            _mark_running(engine=engine, job_id=job_id, actor=actor)
        try:
            result = _run(engine=engine, job_id=job_id, source_dir=source_dir, subnet=subnet, actor=actor,
                          report_progress=report_progress, zone_chunk_lines=zone_chunk_lines, chunk_rows=chunk_rows,
                          started=started)
        except Exception as exc:
            if own_job:
                _record_failure(engine=engine, job_id=job_id, exc=exc)
            raise
    _write_trace_snapshot(engine)
    return result


def _write_trace_snapshot(engine: sqlalchemy.Engine) -> None:
    """Write the imported network's trace snapshot now (`gis.network.topology`), so the first trace
    after an import finds it instead of writing it (about 2 s at ten times the SimBench network, once
    per machine). The import is complete either way: a failure here is logged, and the first trace
    writes the snapshot itself."""
    try:
        with Session(bind=engine) as db:
            GraphCache().get(db)
    except (OSError, sqlalchemy.exc.SQLAlchemyError):
        log.warning("the trace snapshot after the import could not be written; the first trace will write it",
                    exc_info=True)


@contextmanager
def _transaction(engine: sqlalchemy.Engine, work: str) -> Iterator[sqlalchemy.Connection]:
    """`engine.begin()`, with a database fault said as what it is (a timeout names the chunk and the
    jobs' limit, not "database not reachable")."""
    try:
        try:
            with engine.begin() as connection:
                yield connection
        except psycopg.Error as raw:  # from the driver cursor (COPY, staging): said the way SQLAlchemy says it
            raise sqlalchemy.exc.DBAPIError.instance(None, None, raw, psycopg.Error) from raw
    except sqlalchemy.exc.DBAPIError as exc:
        mapped = unavailable_from(exc, work=work, limit_ms=statement_timeout_ms(engine))
        if mapped is None:
            raise
        raise mapped from exc


def _release(guard: sqlalchemy.Connection) -> None:
    try:
        guard.exec_driver_sql(sql.RELEASE_IMPORTS)
        guard.commit()
    except sqlalchemy.exc.DBAPIError:
        guard.invalidate()  # the lock goes with the connection; never pool one that may hold it


def _open_own_job(*, engine: sqlalchemy.Engine, actor: Actor, subnet: str | None) -> int:
    source_name = subnet or "all"
    with Session(bind=engine) as db, db.begin():
        unfinished = db.scalar(
            select(ImportJob.id).where(ImportJob.kind == "simbench", ImportJob.source_name == source_name,
                                       ImportJob.status.in_((JobStatus.failed, JobStatus.running)),
                                       ImportJob.counts.has_key("plan"), lease_is_free())
            .order_by(ImportJob.id.desc()).limit(1))
        if unfinished is not None:
            return int(unfinished)
        job = job_service.create_simbench_job(db=db, actor=actor, subnet=subnet)
        return job.id


def _mark_running(*, engine: sqlalchemy.Engine, job_id: int, actor: Actor) -> None:
    with Session(bind=engine) as db, db.begin():
        job = db.execute(select(ImportJob).where(ImportJob.id == job_id).with_for_update()).scalar_one()
        resumed = _JobState.from_counts(job.counts) is not None
        job.status = JobStatus.running
        job.attempts += 1
        job.worker = f"{actor.username} (in process)"[:200]
        job.started_at = datetime.now(UTC)
        job.message = "resumed after its last committed chunk" if resumed else "started"


def _record_failure(*, engine: sqlalchemy.Engine, job_id: int, exc: Exception) -> None:
    reason = exc.detail if isinstance(exc, GridWardenError) else f"failed: {exc.__class__.__name__}"
    try:
        with Session(bind=engine) as db, db.begin():
            job_service.finish(db=db, job_id=job_id, succeeded=False,
                               message=f"{reason} Run the import again to continue after its last committed chunk.")
    except sqlalchemy.exc.DBAPIError:
        log.warning("SimBench import job %s failed and its failure could not be recorded", job_id)


def _job_counts(engine: sqlalchemy.Engine, job_id: int) -> dict[str, Any]:
    with Session(bind=engine) as db:
        return dict(db.scalar(select(ImportJob.counts).where(ImportJob.id == job_id)) or {})


def _stage(*, engine: sqlalchemy.Engine, job_id: int, source_dir: Path, subnet: str | None,
           report_progress: Progress) -> _JobState:
    """Read, plan and stage the whole data set, with the plan on the job, in one transaction."""
    data = model.read_dataset(Path(source_dir))
    selection = model.select(data, subnet)
    plan = simbench_plan.plan_import(data, selection)
    report = _report_of(plan)
    staged_layers = [(layer, table) for layer, table, _ in LAYERS] + [(POINTS_LAYER, POINTS_TABLE)]
    with _transaction(engine, f"Staging SimBench import job {job_id}") as connection:
        cur = _cursor(connection)
        cur.execute(sql.DROP_STAGED, (job_id,))  # nothing is staged unless this transaction commits; belt and braces
        staged = {layer: sql.stage_rows(cur, job_id=job_id, layer=layer, table=table, rows=getattr(plan, layer))
                  for layer, table in staged_layers}  # a layer's rows are the plan's attribute of its name
        state = _JobState(plan=report.counts(), rows={layer: staged[layer] for layer, _, _ in LAYERS},
                          through={layer: 0 for layer, _, _ in LAYERS}, changed={layer: 0 for layer, _, _ in LAYERS})
        _save(connection, job_id=job_id, state=state, message=f"staged {sum(staged.values())} rows")
    if plan.components_without_source:
        log.warning("SimBench import %s: %d connected part(s) with customers have no source (grid infeed)",
                    subnet or "all", plan.components_without_source)
    if plan.customers_without_transformer:
        log.warning("SimBench import %s: %d customer(s) are fed by no distribution transformer",
                    subnet or "all", plan.customers_without_transformer)
    report_progress(STAGED_FRACTION, f"read, planned and staged {sum(staged.values())} rows")
    return state


def _run(*, engine: sqlalchemy.Engine, job_id: int, source_dir: Path, subnet: str | None, actor: Actor,
         report_progress: Progress, zone_chunk_lines: int, chunk_rows: int, started: float) -> SimbenchReport:
    state = _JobState.from_counts(_job_counts(engine, job_id))
    if state is None:
        state = _stage(engine=engine, job_id=job_id, source_dir=source_dir, subnet=subnet,
                       report_progress=report_progress)
    else:
        report_progress(state.fraction(), f"resumed: {sum(state.through.values())} of "
                                          f"{sum(state.rows.values())} rows already written")
    for layer, table, upsert in LAYERS:
        while state.through[layer] < state.rows[layer]:
            after = state.through[layer]
            through = min(after + chunk_rows, state.rows[layer])
            work = f"SimBench import job {job_id}, the chunk of {layer} rows {after + 1} to {through},"
            with _transaction(engine, work) as connection:
                cur = _cursor(connection)
                sql.create_staging(cur)
                sql.load_chunk(cur, job_id=job_id, layer=layer, table=table, after_seq=after, through_seq=through,
                               points_layer=POINTS_LAYER if layer == "substations" else None)
                cur.execute(upsert + " RETURNING t.id")
                changed = sorted(row[0] for row in cur.fetchall())
                if layer == "lines":
                    state.zone_parts += _refresh_zones(connection, changed, zone_chunk_lines)
                state.through[layer] = through
                state.changed[layer] += len(changed)
                message = f"{layer}: {through} of {state.rows[layer]} written ({state.changed[layer]} changed)"
                _save(connection, job_id=job_id, state=state, message=message)
            report_progress(state.fraction(), message)

    report = SimbenchReport(**state.plan, seconds=0.0)
    changed_total = sum(state.changed.values())
    message = (f"SimBench import finished: {changed_total} rows inserted or updated, {state.zone_parts} zone parts"
               if changed_total else "SimBench import finished: nothing changed (the data is already as imported)")
    with _transaction(engine, f"Finishing SimBench import job {job_id}") as connection:
        bump_revision(connection)
        _cursor(connection).execute(sql.DROP_STAGED, (job_id,))
        with Session(bind=connection) as db:
            audit_service.record(db=db, actor=actor, action="import.simbench", entity_type="import",
                                 entity_id=subnet or "all", before=None,
                                 after={**report.counts(), "changed": state.changed, "job": job_id})
            job_service.finish(db=db, job_id=job_id, succeeded=True, message=message,
                               counts={**report.counts(), "changed": state.changed,
                                       "zone_parts": state.zone_parts})
            db.flush()
    report_progress(1.0, message)
    return replace(report, changed=dict(state.changed), seconds=round(time.perf_counter() - started, 3))


def _cursor(connection: sqlalchemy.Connection) -> psycopg.Cursor:
    driver = connection.connection.driver_connection
    assert driver is not None, "a checked-out connection has its driver connection"
    return driver.cursor()


def _refresh_zones(connection: sqlalchemy.Connection, line_ids: list[int], zone_chunk_lines: int) -> int:
    """Zones of the lines a chunk inserted or changed, in the chunk's transaction (a re-import that
    changes nothing recomputes none), in statements of `zone_chunk_lines` lines."""
    parts = 0
    with Session(bind=connection) as session:
        for start in range(0, len(line_ids), zone_chunk_lines):
            parts += zone_service.refresh_line_zones(db=session, line_ids=line_ids[start:start + zone_chunk_lines])
        session.flush()
    return parts


def _save(connection: sqlalchemy.Connection, *, job_id: int, state: _JobState, message: str) -> None:
    connection.execute(update(ImportJob).where(ImportJob.id == job_id)
                       .values(counts=state.as_counts(), progress=state.fraction(), message=message[:500]))


def _report_of(plan: simbench_plan.Plan) -> SimbenchReport:
    return SimbenchReport(
        nodes=len(plan.nodes), substations=len(plan.substations), transformers=len(plan.transformers),
        lines=len(plan.lines), overhead_lines=plan.overhead_lines, cables=plan.cables, poles=len(plan.poles),
        switches=len(plan.switches), customers=len(plan.customers),
        skipped_equivalent_loads=plan.skipped["equivalent_loads"], seconds=0.0, sources=plan.sources,
        skipped_non_lv_loads=plan.skipped["non_lv_loads"],
        skipped_unlocated_loads=plan.skipped["unlocated_loads"],
        skipped_substations=plan.skipped["substations"], skipped_lines=plan.skipped["lines"],
        skipped_transformers=plan.skipped["transformers"], skipped_switches=plan.skipped["switches"],
        customers_without_transformer=plan.customers_without_transformer,
        components_without_source=plan.components_without_source,
    )
