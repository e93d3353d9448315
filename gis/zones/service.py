"""Keeping derived protection zones in step with lines and built-up areas, and reading zones.

Zones are never stale: the layer service calls `refresh_after_line_write` /
`refresh_after_built_up_write` in the transaction that changes a line or a built-up area, so the
zone change commits (or rolls back) with it. `rebuild_all_zones` recomputes every zone, e.g. after
a bulk import or when the default rule set changes.

The split of a line into general and built-up stretches, and the buffering, happen in PostGIS;
the widths come from the rule set (data) and are passed in as bound arrays.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, Select, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from core.audit import service as audit_service
from core.context import Actor
from core.database import unit_of_work
from core.errors import Conflict, GridWardenError, ServiceUnavailable
from gis.imports.lease import LEASE_NAMESPACE, job_lease
from gis.imports.models import ImportJob, JobStatus
from gis.network.line_defaults import default_spread_m, line_wind_swing_m, spread_table
from gis.network.models import Construction, Line
from gis.rule_sets import service as rule_set_service
from gis.rule_sets.definition import RuleSetDefinition
from gis.rule_sets.models import RuleSet
from gis.rule_sets.service import LoadedRuleSet

# id, construction, nominal kV, conductor spread, wind swing of the lines whose zones are written.
LineRows = Select[int, Construction, float, float | None, float | None]

_DELETE_ZONES = text("DELETE FROM line_zones WHERE line_id = ANY(CAST(:line_ids AS bigint[]))")
_DELETE_ALL_ZONES = text("DELETE FROM line_zones")
_DELETE_ZONE_RANGE = text("DELETE FROM line_zones WHERE line_id > :after AND line_id <= :through")

# One row per (line, setting) comes in as arrays; each becomes the stretch of the line the setting
# covers (outside / inside built-up areas, or the whole cable route), buffered on the ellipsoid.
_INSERT_ZONES = text("""
WITH wanted AS (
    SELECT * FROM unnest(CAST(:line_ids AS bigint[]), CAST(:settings AS text[]), CAST(:rule_codes AS text[]),
                         CAST(:offsets AS float8[]), CAST(:swings AS float8[]), CAST(:widths AS float8[]))
        AS w(line_id, setting, rule_code, offset_m, swing_m, width_m)
), parts AS (
    SELECT w.*, l.nominal_kv,
           ST_CollectionExtract(CASE
               WHEN w.setting = 'cable' OR built.geom IS NULL THEN
                   CASE WHEN w.setting = 'built_up' THEN NULL ELSE l.geom END
               WHEN w.setting = 'general' THEN ST_Difference(l.geom, built.geom)
               ELSE ST_Intersection(l.geom, built.geom)
           END, 2) AS part
      FROM wanted w
      JOIN lines l ON l.id = w.line_id AND l.deleted_at IS NULL
      LEFT JOIN LATERAL (
          SELECT ST_Union(a.geom) AS geom FROM built_up_areas a
           WHERE a.deleted_at IS NULL AND a.geom && l.geom AND ST_Intersects(a.geom, l.geom)
      ) built ON w.setting <> 'cable'
), zones AS MATERIALIZED (
    SELECT p.*, ST_Buffer(p.part::geography, p.offset_m + p.swing_m + p.width_m)::geometry AS band
      FROM parts p
     WHERE p.part IS NOT NULL AND NOT ST_IsEmpty(p.part)
)
INSERT INTO line_zones (line_id, rule_set_id, rule_code, setting, nominal_kv, conductor_offset_m, wind_swing_m,
                        width_m, half_width_m, centre, geom)
SELECT line_id, :rule_set_id, rule_code, setting, nominal_kv, offset_m, swing_m, width_m,
       offset_m + swing_m + width_m, part::geography,
       -- A band across the antimeridian comes back from geography with longitudes either side of
       -- ±180, which as a map polygon wraps the whole globe: unwrap it and split it at 180°.
       ST_Multi(ST_CollectionExtract(CASE WHEN ST_XMax(band) - ST_XMin(band) > 180
                                          THEN ST_WrapX(ST_ShiftLongitude(band), 180, -360)
                                          ELSE band END, 3))
  FROM zones
""")

# Overhead lines crossing a built-up area's current outline or its outline before the change.
_LINES_CROSSING_AREA = text("""
SELECT l.id FROM lines l
  JOIN built_up_areas a ON a.id = :area_id AND a.deleted_at IS NULL AND ST_Intersects(l.geom, a.geom)
 WHERE l.deleted_at IS NULL AND l.construction = 'overhead'
UNION
SELECT l.id FROM lines l
 WHERE l.deleted_at IS NULL AND l.construction = 'overhead'
   AND ST_Intersects(l.geom, ST_GeomFromGeoJSON(CAST(:before AS text)))
""")


@dataclass(frozen=True)
class ZoneSpec:
    """The widths one stretch of a line gets under a rule set."""

    setting: str
    rule_code: str
    conductor_offset_m: float
    wind_swing_m: float
    width_m: float


def line_offset_m(*, construction: str, nominal_kv: float, conductor_spread_m: float | None) -> float:
    """Half the spread between outermost conductors: zones are measured from the outermost
    conductor, not the centre line. Cables have no spread. A missing spread takes the default."""
    if construction != Construction.overhead:
        return 0.0
    spread = conductor_spread_m if conductor_spread_m is not None else default_spread_m(nominal_kv)
    return (spread or 0.0) / 2


@lru_cache(maxsize=1)
def default_spread_bands() -> dict[str, list[float]]:
    """The default-spread table (kV above, kV up to, spread) as bound arrays, for SQL that has to
    find a line's outer conductor itself (e.g. ranking hundreds of facilities by distance)."""
    rows = spread_table()
    return {"spread_above_kv": [r[0] for r in rows], "spread_up_to_kv": [r[1] for r in rows],
            "spread_m": [r[2] for r in rows]}


def zone_specs(*, rules: RuleSetDefinition, construction: str, nominal_kv: float,
               conductor_spread_m: float | None, wind_swing_m: float | None) -> list[ZoneSpec]:
    """Which zone stretches a line has under `rules`; none where the rule set defines no width."""
    offset = line_offset_m(construction=construction, nominal_kv=nominal_kv, conductor_spread_m=conductor_spread_m)
    settings = ("cable",) if construction == Construction.cable else ("general", "built_up")
    specs = []
    for setting in settings:
        rule = rules.zone_rule(setting)
        width = rule.distance_for(nominal_kv) if rule else None
        if rule is None or width is None:
            continue
        swing = line_wind_swing_m(nominal_kv=nominal_kv, wind_swing_m=wind_swing_m) if rule.plus_wind_swing else 0.0
        specs.append(ZoneSpec(setting, rule.code, offset, swing, width))
    return specs


def _write_zones(*, db: Session, rule_set: LoadedRuleSet, stmt: LineRows) -> int:
    """Insert the zones of the lines `stmt` selects (id, construction, kV, spread, swing) under `rule_set`."""
    columns: dict[str, list[Any]] = {k: [] for k in ("line_ids", "settings", "rule_codes", "offsets", "swings",
                                                       "widths")}
    for line_id, construction, kv, spread, swing in db.execute(stmt):
        for spec in zone_specs(rules=rule_set.definition, construction=construction, nominal_kv=kv,
                               conductor_spread_m=spread, wind_swing_m=swing):
            columns["line_ids"].append(line_id)
            columns["settings"].append(spec.setting)
            columns["rule_codes"].append(spec.rule_code)
            columns["offsets"].append(spec.conductor_offset_m)
            columns["swings"].append(spec.wind_swing_m)
            columns["widths"].append(spec.width_m)
    if not columns["line_ids"]:
        return 0
    result = db.execute(_INSERT_ZONES, {**columns, "rule_set_id": rule_set.id})
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _line_columns() -> LineRows:
    return select(Line.id, Line.construction, Line.nominal_kv, Line.conductor_spread_m,
                  Line.wind_swing_m).where(Line.deleted_at.is_(None))


def refresh_line_zones(*, db: Session, line_ids: Sequence[int] | None = None) -> int:
    """Recompute the zones of these lines (all lines when None) under the default rule set.
    Returns the number of zone parts written."""
    rule_set = rule_set_service.get_rule_set(db=db)
    if line_ids is None:
        db.execute(_DELETE_ALL_ZONES)
    else:
        if not line_ids:
            return 0
        db.execute(_DELETE_ZONES, {"line_ids": list(line_ids)})
    stmt = _line_columns()
    if line_ids is not None:
        stmt = stmt.where(Line.id.in_(list(line_ids)))
    return _write_zones(db=db, rule_set=rule_set, stmt=stmt)


def refresh_zones_in_range(*, db: Session, after_line_id: int, through_line_id: int) -> int:
    """Recompute the zones of every line with `after_line_id < id <= through_line_id` (one chunk of
    a whole-network rebuild): zones of deleted lines in the range go, live lines get theirs anew.
    The lines are read FOR SHARE, so an edit of one of them waits for the chunk (and then refreshes
    its own zones) instead of racing it. Returns the number of zone parts written."""
    rule_set = rule_set_service.get_rule_set(db=db)
    db.execute(_DELETE_ZONE_RANGE, {"after": after_line_id, "through": through_line_id})
    stmt = (_line_columns().where(Line.id > after_line_id, Line.id <= through_line_id)
            .order_by(Line.id).with_for_update(read=True))
    return _write_zones(db=db, rule_set=rule_set, stmt=stmt)


def rebuild_all_zones(*, db: Session) -> int:
    """Every zone in one transaction (a rule-set change, the end of an import). A whole-network
    rebuild an operator starts goes in chunks instead: `run_rebuild`."""
    return refresh_line_zones(db=db, line_ids=None)


def refresh_after_line_write(db: Session, line_id: int, _before_geometry: dict[str, Any] | None) -> None:
    """Layer-service hook: a line was created, moved, re-rated or deleted."""
    refresh_line_zones(db=db, line_ids=[line_id])


def refresh_after_built_up_write(db: Session, area_id: int, before_geometry: dict[str, Any] | None) -> None:
    """Layer-service hook: a built-up area changed, so overhead lines crossing its old or new
    outline switch rule on some stretch."""
    before = json.dumps(before_geometry) if before_geometry else None
    line_ids = db.scalars(_LINES_CROSSING_AREA, {"area_id": area_id, "before": before})
    refresh_line_zones(db=db, line_ids=sorted(line_ids))


def load_rule_set(*, db: Session, actor: Actor, content: dict[str, Any]) -> tuple[RuleSet, bool]:
    """Load a rule set; when it becomes the default, every derived zone is rebuilt under it in the
    same transaction, so the map and screenings never disagree about which rules are in force."""
    row, created = rule_set_service.load_rule_set(db=db, actor=actor, content=content)
    if created and row.is_default:
        rebuild_all_zones(db=db)
    return row, created


# --- the whole-network rebuild as a job in chunks ---------------------------------------------------------------

ZONE_REBUILD_KIND = "zones"  # `import_jobs.kind` of a zone rebuild: its progress, outcome and resume point
# Key of the transaction lock that makes finding-or-creating the rebuild job one at a time.
_REBUILD_JOB_LOCK = text("SELECT pg_advisory_xact_lock(:ns, 0)").bindparams(ns=LEASE_NAMESPACE)


@dataclass(frozen=True)
class RebuildProgress:
    """Where a rebuild stands after a chunk (also what a resumed rebuild starts from)."""

    job_id: int
    through_line_id: int  # every line up to this id has its zones rebuilt (0: none yet)
    lines_done: int
    lines_total: int
    zone_parts: int
    resumed: bool

    @property
    def fraction(self) -> float:
        return min(1.0, self.lines_done / self.lines_total) if self.lines_total else 1.0


def open_rebuild_job(*, db: Session, actor: Actor) -> int:
    """The rebuild job to run: the unfinished one (failed, or running but its worker gone, or queued)
    to resume from its last finished chunk, else a new one."""
    db.execute(_REBUILD_JOB_LOCK)
    unfinished = db.scalar(select(ImportJob.id).where(ImportJob.kind == ZONE_REBUILD_KIND,
                                                      ImportJob.status != JobStatus.succeeded)
                           .order_by(ImportJob.id.desc()).limit(1))
    if unfinished is not None:
        return int(unfinished)
    job = ImportJob(kind=ZONE_REBUILD_KIND, layer=None, source_name="all lines", created_by=actor.username,
                    counts={"through_line_id": 0, "lines_done": 0, "zone_parts": 0})
    db.add(job)
    db.flush()
    audit_service.record(db=db, actor=actor, action="zones.rebuild_queued", entity_type="import_job",
                         entity_id=job.id, before=None, after={"kind": ZONE_REBUILD_KIND})
    return job.id


def _progress_of(job: ImportJob, *, resumed: bool) -> RebuildProgress:
    counts = job.counts or {}
    return RebuildProgress(job_id=job.id, through_line_id=int(counts.get("through_line_id", 0)),
                           lines_done=int(counts.get("lines_done", 0)), lines_total=int(counts.get("lines_total", 0)),
                           zone_parts=int(counts.get("zone_parts", 0)), resumed=resumed)


def start_rebuild(*, db: Session, job_id: int, worker: str) -> RebuildProgress:
    """Mark the job running for `worker` (which holds its lease) and say where to start."""
    job = db.execute(select(ImportJob).where(ImportJob.id == job_id).with_for_update()).scalar_one()
    counts = dict(job.counts or {})
    resumed = int(counts.get("through_line_id", 0)) > 0
    before = {"status": str(job.status), "attempts": job.attempts, "counts": job.counts}
    counts["lines_total"] = int(db.scalar(select(func.count()).select_from(Line)) or 0)
    job.counts = counts
    job.status = JobStatus.running
    job.attempts += 1
    job.worker = worker[:200]
    job.started_at = datetime.now(UTC)
    job.message = f"resumed after line id {counts.get('through_line_id', 0)}" if resumed else "started"
    progress = _progress_of(job, resumed=resumed)
    job.progress = progress.fraction if resumed else 0.0
    audit_service.record(db=db, actor=Actor.system(f"zone rebuild {worker}"), action="zones.rebuild_started",
                         entity_type="import_job", entity_id=job.id, before=before,
                         after={"status": "running", "attempts": job.attempts, "resumed": resumed})
    return progress


def next_chunk_end(*, db: Session, after_line_id: int, chunk_lines: int) -> int | None:
    """The last line id of the next chunk of `chunk_lines` lines (deleted ones included: their old
    zones go), or None when no line is left."""
    chunk = select(Line.id).where(Line.id > after_line_id).order_by(Line.id).limit(chunk_lines).subquery()
    end = db.scalar(select(func.max(chunk.c.id)))
    return None if end is None else int(end)


def rebuild_chunk(*, db: Session, job_id: int, after_line_id: int, through_line_id: int) -> RebuildProgress:
    """One chunk in one transaction: its zones and the job's resume point commit together, so a
    rebuild stopped at any moment is resumed after the last chunk that committed, never redoing
    or duplicating one."""
    parts = refresh_zones_in_range(db=db, after_line_id=after_line_id, through_line_id=through_line_id)
    lines = int(db.scalar(select(func.count()).select_from(Line)
                          .where(Line.id > after_line_id, Line.id <= through_line_id)) or 0)
    job = db.execute(select(ImportJob).where(ImportJob.id == job_id).with_for_update()).scalar_one()
    counts = dict(job.counts or {})
    counts.update(through_line_id=through_line_id, lines_done=int(counts.get("lines_done", 0)) + lines,
                  zone_parts=int(counts.get("zone_parts", 0)) + parts)
    job.counts = counts
    progress = _progress_of(job, resumed=False)
    job.progress = progress.fraction
    job.message = f"{progress.lines_done} of {progress.lines_total} lines, through line id {through_line_id}"
    return progress


def finish_rebuild(*, db: Session, job_id: int, actor: Actor) -> RebuildProgress:
    job = db.execute(select(ImportJob).where(ImportJob.id == job_id).with_for_update()).scalar_one()
    before = {"status": str(job.status), "attempts": job.attempts}
    job.status = JobStatus.succeeded
    job.progress = 1.0
    job.finished_at = datetime.now(UTC)
    progress = _progress_of(job, resumed=False)
    job.message = f"{progress.zone_parts} derived zone parts rebuilt for {progress.lines_done} lines"
    audit_service.record(db=db, actor=actor, action="zones.rebuild", entity_type="line_zones", entity_id="all",
                         before=before, after={"job": job.id, "zone_parts": progress.zone_parts,
                                               "attempts": job.attempts})
    return progress


def fail_rebuild(*, db: Session, job_id: int, message: str) -> None:
    job = db.execute(select(ImportJob).where(ImportJob.id == job_id).with_for_update()).scalar_one()
    before = {"status": str(job.status), "attempts": job.attempts}
    job.status = JobStatus.failed
    job.message = message[:500]
    job.finished_at = datetime.now(UTC)
    audit_service.record(db=db, actor=Actor.system(f"zone rebuild {job.worker}"), action="zones.rebuild_failed",
                         entity_type="import_job", entity_id=job.id, before=before,
                         after={"status": "failed", "message": job.message, "counts": job.counts})


def run_rebuild(*, session_factory: sessionmaker[Session], engine: Engine, actor: Actor, chunk_lines: int,
                worker: str, report: Callable[[RebuildProgress], None] | None = None) -> RebuildProgress:
    """Rebuild every derived zone in chunks of `chunk_lines` lines, each chunk its own transaction,
    with the progress and the resume point on the job row (`import_jobs`, kind `zones`).

    Why chunks: at a province's size one statement over every line outlasts any sensible statement
    timeout, and one transaction holds every zone locked for minutes. Why resumable: a chunk that
    fails (a timeout, a lost connection) fails the job with a message saying so and where it
    stopped; running the rebuild again takes the same job and continues after the last committed
    chunk. Meanwhile every line keeps either its old zones or its new ones, never none. Only one
    rebuild runs at a time: the job's lease (`gis.imports.lease`) is held while it runs.
    """
    with unit_of_work(session_factory, work="Opening the zone rebuild job") as db:
        job_id = open_rebuild_job(db=db, actor=actor)
    with job_lease(engine, job_id) as taken:
        if not taken:
            raise Conflict(f"A zone rebuild (job {job_id}) is already running; its progress is on the job.")
        with unit_of_work(session_factory, work=f"Starting zone rebuild job {job_id}") as db:
            progress = start_rebuild(db=db, job_id=job_id, worker=worker)
        if report:
            report(progress)
        after = progress.through_line_id
        try:
            while True:
                with unit_of_work(session_factory, work=f"Zone rebuild job {job_id}") as db:
                    end = next_chunk_end(db=db, after_line_id=after, chunk_lines=chunk_lines)
                if end is None:
                    break
                work = f"Zone rebuild job {job_id}, the chunk of lines after id {after} through {end},"
                with unit_of_work(session_factory, work=work) as db:
                    progress = rebuild_chunk(db=db, job_id=job_id, after_line_id=after, through_line_id=end)
                after = end
                if report:
                    report(progress)
            with unit_of_work(session_factory, work=f"Finishing zone rebuild job {job_id}") as db:
                return finish_rebuild(db=db, job_id=job_id, actor=actor)
        except Exception as exc:
            reason = exc.detail if isinstance(exc, GridWardenError) else f"failed: {exc.__class__.__name__}"
            message = (f"{reason} Every line through id {after} has its zones rebuilt; run the rebuild again "
                       f"(./gw zones rebuild) to continue after it.")
            with unit_of_work(session_factory, work=f"Recording the failure of zone rebuild job {job_id}") as db:
                fail_rebuild(db=db, job_id=job_id, message=message)
            if isinstance(exc, ServiceUnavailable):
                extra = {k: v for k, v in exc.extra.items() if k != "service"}
                raise ServiceUnavailable(message, service=exc.service, retry_after_s=exc.retry_after_s,
                                         job=job_id, **extra) from exc
            raise
