"""Route planning's tables: the road network travel times come from, the plans, and the published
routes a crew member's device shows.

- `roads` / `road_vertices`: one imported road network (OpenStreetMap extract or GeoPackage),
  split at junctions into edges between vertices, the graph pgRouting walks. An import replaces
  the whole network in one transaction; `road_imports` records each one, and the latest import's id
  is the network's version (travel-matrix cache keys carry it, so a new network never serves old
  times).
- `route_plans`: one request to plan (a crew's day, a re-plan during the day, or a reading
  window's rounds), its normalised input, its state while a worker solves it, and its result.
- `route_stops`: a published plan's stops, per crew member and day, in visiting order. Publishing
  replaces the stops that person had for that day from an earlier plan.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from core.models import Base


class RoadImport(Base):
    """One import of the road network; the latest one is the network in use."""

    __tablename__ = "road_imports"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    filename: Mapped[str] = mapped_column(String(300))
    file_format: Mapped[str] = mapped_column(String(20))  # osm_pbf | gpkg
    sha256: Mapped[str] = mapped_column(String(64))
    edges: Mapped[int] = mapped_column(Integer)
    vertices: Mapped[int] = mapped_column(Integer)
    skipped: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RoadVertex(Base):
    """A junction or a dead end of the road graph."""

    __tablename__ = "road_vertices"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=False)


class Road(Base):
    """A road edge between two vertices. `road_class` is OpenStreetMap's `highway` value (or the
    GeoPackage's class column mapped onto it); speeds per class and travel mode are data
    (`routing/data/routing.json`). `oneway`: traversable only from `source_vertex` to `target_vertex`."""

    __tablename__ = "roads"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("road_imports.id"))
    external_id: Mapped[str] = mapped_column(String(60), default="")
    road_class: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200), default="")
    oneway: Mapped[bool] = mapped_column(Boolean, default=False)
    length_m: Mapped[float] = mapped_column(Float)
    source_vertex: Mapped[int] = mapped_column(ForeignKey("road_vertices.id"), index=True)
    target_vertex: Mapped[int] = mapped_column(ForeignKey("road_vertices.id"), index=True)
    geom = mapped_column(Geometry("LINESTRING", srid=4326, spatial_index=True), nullable=False)


class PlanKind(StrEnum):
    field = "field"                  # a crew's day of field tasks and ad-hoc jobs
    meter_reading = "meter_reading"  # a reading window's rounds


class PlanState(StrEnum):
    """queued -> solving -> solved | failed; solved -> published; published -> superseded (a later
    plan was published for the same people and day)."""

    queued = "queued"
    solving = "solving"
    solved = "solved"
    failed = "failed"
    published = "published"
    superseded = "superseded"


class RoutePlan(Base):
    """One planning request and its outcome.

    `request` is the normalised input (crews, jobs, options) the worker builds the problem from, so
    that the same plan can be solved again with the same result (`seed`). `result` is the plan
    (routes with times and geometry, unassigned jobs with reasons, totals); `error` a failure's
    problem details. `parent_id`: the plan a re-plan started from."""

    __tablename__ = "route_plans"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    uuid: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), unique=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    plan_date: Mapped[date] = mapped_column(Date)
    request: Mapped[dict[str, Any]] = mapped_column(JSONB)
    seed: Mapped[int] = mapped_column(Integer)
    time_limit_s: Mapped[float] = mapped_column(Float)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    travel_source: Mapped[str | None] = mapped_column(String(20))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("route_plans.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    solved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (
        CheckConstraint("kind IN ('field', 'meter_reading')", name="kind"),
        CheckConstraint("state IN ('queued', 'solving', 'solved', 'failed', 'published', 'superseded')",
                        name="state"),
    )


class RouteStop(Base):
    """One stop of a published route: a field task or a customer's meter, at its place in the
    person's day, with the planned times. Exactly one of `task_id`, `customer_id`, `job_ref`."""

    __tablename__ = "route_stops"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("route_plans.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    day: Mapped[date] = mapped_column(Date)
    position: Mapped[int] = mapped_column(Integer)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("field_tasks.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    job_ref: Mapped[str | None] = mapped_column(String(100))
    planned_arrival: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    planned_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    planned_departure: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        UniqueConstraint("plan_id", "user_id", "day", "position", name="uq_route_stops_position"),
        CheckConstraint("num_nonnulls(task_id, customer_id, job_ref) = 1", name="one_target"),
        Index("ix_route_stops_user_day", "user_id", "day"),
    )
