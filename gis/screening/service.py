"""Screening requests: validate every input first, evaluate, then store each result with the rule
set version it used. Keyword-only functions, no HTTP.

A request that fails validation (bad geometry, too large, unknown activity, missing parameters,
an activity the rule set does not cover) stores nothing, for a batch as for a single screening.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import shapely
from pydantic import BaseModel
from shapely.geometry import Point, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import BigInteger, Date, Integer, Text, bindparam, cast, func, insert, select, type_coerce
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Session

from core.audit import service as audit_service
from core.context import Actor
from core.errors import InvalidInput, NotFound
from core.fingerprint import IDEMPOTENCY_KEY_REUSED
from gis.geo.geometry import (
    WGS84,
    GeometryLimits,
    check_extent,
    crosses_antimeridian,
    parse_geometry,
    split_at_antimeridian,
)
from gis.rule_sets.definition import Activity
from gis.rule_sets.service import LoadedRuleSet
from gis.screening import engine
from gis.screening.activities import (
    GEOMETRY_TYPES,
    ConnectionParams,
    CraneParams,
    VehiclePassageParams,
    object_top_m,
    parse_activity,
    parse_parameters,
)
from gis.screening.models import Screening
from gis.screening.settings import ScreeningSettings

SCREENABLE_TYPES = frozenset({"Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon"})


@dataclass(frozen=True)
class ScreeningInput:
    """One validated request: geometry in EPSG:4326 (a crane's operating area already drawn).

    A crane given by its standing point keeps that point and its working radius as well
    (`centre`, `buffer_m`): the engine measures to the exact circle from them. A vehicle's route
    keeps half the vehicle's width as its buffer: the engine measures to the vehicle's sides."""

    geometry: BaseGeometry
    activity: Activity
    parameters: BaseModel
    reference: str | None = None
    centre: BaseGeometry | None = None
    buffer_m: float = 0.0


@dataclass(frozen=True)
class RawScreening:
    """One request as the client sent it, before validation."""

    geometry: dict[str, Any]
    activity: str
    parameters: dict[str, Any] | None = None
    reference: str | None = None


def geodesic_circle(centre: Point, radius_m: float, segments: int = 64) -> BaseGeometry:
    """A circle of `radius_m` on the ellipsoid: its vertices are the geodesic points at that
    distance from the centre in every direction, so it is round at any latitude (and cheap)."""
    azimuths = [360.0 * i / segments for i in range(segments)]
    lons, lats, _ = WGS84.fwd([centre.x] * segments, [centre.y] * segments, azimuths, [radius_m] * segments)
    return Polygon(list(zip(lons, lats, strict=True)))


def screening_limits(limits: ScreeningSettings) -> GeometryLimits:
    """A screening's geometry limits: a site, not a district (`GW_SCREENING_*`)."""
    return GeometryLimits(max_vertices=limits.max_vertices, max_area_m2=limits.max_area_m2,
                          max_length_m=limits.max_length_m)


def validate_one(*, raw: RawScreening, epsg: int, rule_set: LoadedRuleSet, limits: ScreeningSettings,
                 prefix: str = "") -> ScreeningInput:
    activity = parse_activity(raw.activity, field=f"{prefix}activity")
    if not rule_set.definition.rules_for(activity):
        covered = ", ".join(a.value for a in rule_set.definition.activities)
        raise InvalidInput(f"Rule set {rule_set.label} has no rules for {activity.value}; it covers: {covered}.",
                           errors=[{"field": f"{prefix}activity", "message": "not covered by the rule set"}])
    parameters = parse_parameters(activity, raw.parameters, field=f"{prefix}parameters")
    geometry = parse_geometry(raw.geometry, epsg=epsg, allowed_types=GEOMETRY_TYPES.get(activity, SCREENABLE_TYPES),
                              field=f"{prefix}geometry", limits=screening_limits(limits))
    if isinstance(parameters, CraneParams) and isinstance(geometry, Point):
        if parameters.working_radius_m is None:
            raise InvalidInput("A crane given by its standing point needs parameters.working_radius_m "
                               "(or send its operating area as a polygon).",
                               errors=[{"field": f"{prefix}parameters.working_radius_m", "message": "required"}])
        area = geodesic_circle(geometry, parameters.working_radius_m)
        if crosses_antimeridian(area):
            area = split_at_antimeridian(area, field=f"{prefix}geometry")
        check_extent(area, screening_limits(limits), f"{prefix}geometry")
        return ScreeningInput(geometry=area, activity=activity, parameters=parameters, reference=raw.reference,
                              centre=geometry, buffer_m=parameters.working_radius_m)
    if isinstance(parameters, VehiclePassageParams):
        # The route is the vehicle's centre line; the engine measures to its sides (a buffer of half
        # the width), and the width used is stored with the request.
        if parameters.width_m is None:
            parameters = parameters.model_copy(update={"width_m": limits.vehicle_width_m})
        width = parameters.width_m or limits.vehicle_width_m
        return ScreeningInput(geometry=geometry, activity=activity, parameters=parameters, reference=raw.reference,
                              centre=geometry, buffer_m=width / 2)
    return ScreeningInput(geometry=geometry, activity=activity, parameters=parameters, reference=raw.reference)


def validate_all(*, raws: Sequence[RawScreening], epsg: int, rule_set: LoadedRuleSet,
                 limits: ScreeningSettings, batch: bool = False) -> list[ScreeningInput]:
    """Every item checked; all problems reported together with their item number, or none stored.
    Fields are named `items[i].…` for a batch (even of one, so the client can map every error back
    to its list) and for several raws; a single screening names its fields plainly."""
    if not raws:
        raise InvalidInput("Send at least one geometry to screen.", errors=[{"field": "items", "message": "empty"}])
    if len(raws) > limits.max_batch:
        raise InvalidInput(f"A batch may hold at most {limits.max_batch} geometries (got {len(raws)}).",
                           errors=[{"field": "items", "message": "too many"}])
    valid: list[ScreeningInput] = []
    errors: list[dict[str, Any]] = []
    first: str | None = None  # the first item's own explanation (sizes, limits, what is covered)
    for position, raw in enumerate(raws):
        prefix = f"items[{position}]." if batch or len(raws) > 1 else ""
        try:
            valid.append(validate_one(raw=raw, epsg=epsg, rule_set=rule_set, limits=limits, prefix=prefix))
        except InvalidInput as exc:
            errors.extend(exc.errors or [{"field": prefix.rstrip("."), "message": exc.detail}])
            first = first or (f"item {position}: " if prefix else "") + exc.detail
    if errors:
        raise InvalidInput(f"{len(errors)} problem(s) in the request; nothing was screened or stored. First: {first}",
                           errors=errors)
    return valid


def previous_submission(*, db: Session, actor: Actor, idempotency_key: str, fingerprint: str) -> list[Screening]:
    """The screenings stored for this user's earlier submission with the same Idempotency-Key, in
    input order; empty if there was none. Takes a transaction lock on the key first, so a second
    copy sent at the same moment waits for the first and then finds its result.

    A key is bound to its request (`fingerprint`, see `core.fingerprint.request_fingerprint`): the
    same key with a different request is refused (422, IETF Idempotency-Key draft) instead of being
    answered with another request's result. Screenings stored before fingerprints were kept have
    none and are returned as they were (migration d97ab0be01a9)."""
    lock_key = func.hashtextextended(f"screening:{actor.user_id}:{idempotency_key}", 0)
    db.execute(select(func.pg_advisory_xact_lock(lock_key)))
    earlier = list(db.scalars(select(Screening).where(Screening.created_by_id == actor.user_id,
                                                      Screening.idempotency_key == idempotency_key)
                              .order_by(Screening.batch_position.nulls_first(), Screening.id)))
    if any(row.idempotency_fingerprint not in (None, fingerprint) for row in earlier):
        raise InvalidInput("This Idempotency-Key was already used for a different screening request; send a new "
                           "key for a new request (nothing was screened or stored).",
                           errors=[IDEMPOTENCY_KEY_REUSED])
    return earlier


def run(*, db: Session, actor: Actor, items: Sequence[ScreeningInput], rule_set: LoadedRuleSet, epsg: int,
        limits: ScreeningSettings, on_date: date | None = None, subject: tuple[str, int] | None = None,
        batch: bool = False, idempotency_key: str | None = None,
        idempotency_fingerprint: str | None = None) -> list[Screening]:
    """Evaluate and store; returns the stored screenings in input order. An Idempotency-Key is
    stored with the fingerprint of the request it came with (see `previous_submission`)."""
    on = on_date or date.today()
    subjects = [engine.Subject(geometry=item.centre or item.geometry, buffer_m=item.buffer_m,
                               activity=item.activity, requested_load_kw=requested_load(item.parameters),
                               object_top_m=object_top_m(item.parameters))
                for item in items]
    outcomes = engine.evaluate(db=db, rule_set=rule_set, subjects=subjects, on_date=on, settings=limits)
    batch_id = uuid.uuid4().hex if batch else None
    rows = []
    for position, (item, outcome) in enumerate(zip(items, outcomes, strict=True)):
        rows.append(Screening(
            created_by_id=actor.user_id, created_by=actor.username, batch_id=batch_id,
            batch_position=position if batch else None, reference=item.reference, idempotency_key=idempotency_key,
            idempotency_fingerprint=idempotency_fingerprint if idempotency_key else None,
            subject_type=subject[0] if subject else None, subject_id=str(subject[1]) if subject else None,
            activity=item.activity.value, parameters=item.parameters.model_dump(mode="json"), input_crs=epsg,
            on_date=on, rule_set_id=rule_set.id, verdict=outcome.verdict,
            findings=[f.as_dict() for f in outcome.findings[: limits.max_findings]],
            findings_total=outcome.findings_total,
            nearest_transformers=[vars(t) for t in outcome.transformers],
            geom=_ewkt(item.geometry)))
    _store(db, rows)
    _audit(db=db, actor=actor, rows=rows, rule_set=rule_set, batch_id=batch_id)
    return rows


# Stored as they come, one array per column.
_PLAIN_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("created_by_id", BigInteger), ("created_by", Text), ("batch_id", Text), ("batch_position", Integer),
    ("reference", Text), ("idempotency_key", Text), ("idempotency_fingerprint", Text), ("subject_type", Text), ("subject_id", Text),
    ("activity", Text), ("input_crs", Integer), ("on_date", Date), ("rule_set_id", BigInteger),
    ("verdict", Text), ("findings_total", Integer), ("geom", Text),
)
# JSON documents travel together as one JSON text (no per-element array quoting of megabytes of JSON).
_JSON_COLUMNS = ("parameters", "findings", "nearest_transformers")


def _store(db: Session, rows: list[Screening]) -> None:
    """Insert the screenings in one statement that takes each column as one array (`unnest`), as the
    screening queries take their requests, and give the objects their ids and timestamps.

    A batch of a thousand as a multi-row VALUES list would be one statement of some 18,000
    parameters, which SQLAlchemy renders and psycopg re-parses on every call (about half a second).
    Ids come from the sequence in the order the rows are inserted (by ordinality), so sorted they
    match the input order.
    """
    source = func.unnest(*(bindparam(name, [getattr(r, name) for r in rows], type_=ARRAY(kind))
                           for name, kind in _PLAIN_COLUMNS)
                         ).table_valued(*(name for name, _ in _PLAIN_COLUMNS), with_ordinality="position"
                                        ).render_derived(name="source")
    documents = json.dumps([[getattr(r, name) for name in _JSON_COLUMNS] for r in rows])
    docs = func.jsonb_array_elements(cast(bindparam("documents", documents, type_=Text), JSONB)
                                     ).table_valued("value", with_ordinality="position").render_derived(name="docs")
    document = type_coerce(docs.c.value, JSONB)
    values = (select(*(source.c[name] for name, _ in _PLAIN_COLUMNS[:-1]),
                     *(document[i] for i in range(len(_JSON_COLUMNS))), func.ST_GeomFromEWKT(source.c.geom))
              .select_from(source.join(docs, docs.c.position == source.c.position)).order_by(source.c.position))
    names = [name for name, _ in _PLAIN_COLUMNS[:-1]] + list(_JSON_COLUMNS) + ["geom"]
    stored = db.execute(insert(Screening).from_select(names, values)
                        .returning(Screening.id, Screening.created_at)).all()
    for row, (screening_id, created_at) in zip(rows, sorted(stored), strict=True):
        row.id, row.created_at = screening_id, created_at


def _ewkt(geometry: BaseGeometry) -> str:
    return "SRID=4326;" + shapely.to_wkt(geometry, rounding_precision=-1)


def _audit(*, db: Session, actor: Actor, rows: list[Screening], rule_set: LoadedRuleSet, batch_id: str | None) -> None:
    if batch_id is None:
        for row in rows:
            audit_service.record(db=db, actor=actor, action="screening.create", entity_type="screening",
                                 entity_id=row.id, before=None,
                                 after={"activity": row.activity, "verdict": row.verdict, "rule_set": rule_set.label,
                                        "findings_total": row.findings_total, "subject_id": row.subject_id})
        return
    verdicts: dict[str, int] = {}
    for row in rows:
        verdicts[row.verdict] = verdicts.get(row.verdict, 0) + 1
    audit_service.record(db=db, actor=actor, action="screening.batch", entity_type="screening_batch",
                         entity_id=batch_id, before=None,
                         after={"count": len(rows), "verdicts": verdicts, "rule_set": rule_set.label,
                                "first_id": rows[0].id, "last_id": rows[-1].id})


def get_screening(*, db: Session, screening_id: int) -> tuple[Screening, dict[str, Any]]:
    """A stored screening and its geometry as GeoJSON."""
    found = db.execute(select(Screening, func.ST_AsGeoJSON(Screening.geom, 9))
                       .where(Screening.id == screening_id)).first()
    if found is None:
        raise NotFound(f"No screening with id {screening_id}.")
    return found[0], json.loads(found[1])


def requested_load(parameters: BaseModel) -> float | None:
    return parameters.requested_load_kw if isinstance(parameters, ConnectionParams) else None
