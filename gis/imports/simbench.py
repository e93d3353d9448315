"""Importing a SimBench benchmark grid (https://simbench.de) as GridWarden network and customer data.

SimBench ships German benchmark grids from EHV to LV with WGS84 coordinates as `;`-separated CSV.
`import_simbench` loads one data set (by default the complete one inside the installed `simbench`
package) in ONE transaction: staging tables are filled with COPY and every layer is upserted by
`external_id` (the SimBench `id`) in one set-based statement, so a repeated import changes nothing
except rows whose attributes really changed (those get `version + 1` and a new `updated_at`).

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
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import sqlalchemy
from sqlalchemy.orm import Session

from core.audit import service as audit_service
from core.context import Actor
from core.settings import JobSettings
from gis.imports import simbench_model as model
from gis.imports import simbench_plan
from gis.imports import simbench_sql as sql
from gis.network.topology import bump_revision
from gis.zones import service as zone_service

log = logging.getLogger(__name__)

COMPLETE_DATA_SET = "1-complete_data-mixed-all-0-sw"
DEMO_SUBNET = "MV1.101"

Progress = Callable[[float, str], None]
DEFAULT_ZONE_CHUNK_LINES: int = JobSettings.model_fields["zone_chunk_lines"].default


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

    def counts(self) -> dict[str, int]:
        """The counts without the timing (what the audit record keeps)."""
        return {k: v for k, v in asdict(self).items() if k != "seconds"}


def default_source_dir() -> Path:
    """The complete SimBench data set inside the installed `simbench` package.

    Found without importing the package (its import pulls in pandas and pandapower).
    """
    spec = importlib.util.find_spec("simbench")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("The simbench package is not installed.")
    return Path(next(iter(spec.submodule_search_locations))) / "networks" / COMPLETE_DATA_SET


def import_simbench(
    *,
    engine: sqlalchemy.Engine,
    source_dir: Path,
    subnet: str | None = None,
    actor: Actor,
    progress: Progress | None = None,
    before_commit: Callable[[sqlalchemy.Connection, SimbenchReport], None] | None = None,
    zone_chunk_lines: int = DEFAULT_ZONE_CHUNK_LINES,
) -> SimbenchReport:
    """Import in one transaction; `before_commit` writes in that same transaction (an import job
    marks itself succeeded there, so data and outcome are committed together or not at all).
    `engine` should be a job engine (`core.database.create_job_engine`): the import's statements
    run under the jobs' statement timeout, not a request's."""
    started = time.perf_counter()
    report_progress: Progress = progress or (lambda fraction, message: None)

    data = model.read_dataset(Path(source_dir))
    selection = model.select(data, subnet)
    plan = simbench_plan.plan_import(data, selection)
    report_progress(0.15, "read and planned")

    with engine.begin() as connection:
        driver = connection.connection.driver_connection
        assert driver is not None, "a checked-out connection has its driver connection"
        cur = driver.cursor()
        cur.execute(sql.SERIALIZE_IMPORTS)
        sql.create_staging(cur)
        for table, rows in (("stg_substation", plan.substations), ("stg_substation_point", plan.substation_points),
                            ("stg_node", plan.nodes), ("stg_transformer", plan.transformers),
                            ("stg_line", plan.lines), ("stg_pole", plan.poles), ("stg_switch", plan.switches),
                            ("stg_customer", plan.customers)):
            sql.copy_rows(cur, table, rows)
        report_progress(0.3, "staged")

        phases = (("substations", sql.UPSERT_SUBSTATIONS), ("nodes", sql.UPSERT_NODES),
                  ("transformers", sql.UPSERT_TRANSFORMERS), ("lines", sql.UPSERT_LINES),
                  ("poles", sql.UPSERT_POLES), ("switches", sql.UPSERT_SWITCHES),
                  ("customers", sql.UPSERT_CUSTOMERS))
        changed_lines: list[int] = []
        for i, (name, statement) in enumerate(phases, start=1):
            if statement is sql.UPSERT_LINES:
                cur.execute(statement + " RETURNING t.id")
                changed_lines = sorted(row[0] for row in cur.fetchall())
            else:
                cur.execute(statement)
            report_progress(0.3 + 0.65 * i / len(phases), name)
        bump_revision(connection)
        # Zones follow the lines in the same transaction, so they are never stale after an import:
        # those of the lines this import inserted or changed (a re-import that changes nothing
        # recomputes none), in statements of `zone_chunk_lines` lines, so no single statement grows
        # with the network (the whole-network rebuild in one statement is what ran out of time at 10x).
        zone_parts = 0
        with Session(bind=connection) as session:
            for start in range(0, len(changed_lines), zone_chunk_lines):
                zone_parts += zone_service.refresh_line_zones(
                    db=session, line_ids=changed_lines[start:start + zone_chunk_lines])
                report_progress(0.95 + 0.03 * min(1.0, (start + zone_chunk_lines) / len(changed_lines)),
                                f"zones of {min(start + zone_chunk_lines, len(changed_lines))} of "
                                f"{len(changed_lines)} changed lines")
        report_progress(0.98, f"{zone_parts} zone parts")

        report = SimbenchReport(
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
        # The Session joins the connection's transaction; the one commit is engine.begin()'s on exit.
        with Session(bind=connection) as db:
            audit_service.record(db=db, actor=actor, action="import.simbench", entity_type="import",
                                 entity_id=subnet or "all", before=None, after=report.counts())
            db.flush()
        if before_commit is not None:
            before_commit(connection, report)

    if plan.components_without_source:
        log.warning("SimBench import %s: %d connected part(s) with customers have no source (grid infeed)",
                    subnet or "all", plan.components_without_source)
    if plan.customers_without_transformer:
        log.warning("SimBench import %s: %d customer(s) are fed by no distribution transformer",
                    subnet or "all", plan.customers_without_transformer)
    seconds = round(time.perf_counter() - started, 3)
    report_progress(1.0, "done")
    return replace(report, seconds=seconds)
