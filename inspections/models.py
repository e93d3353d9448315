"""Field tasks and what is recorded on them: checklist templates (versioned), answers, findings,
and the inspection plans that create tasks on a cycle.

One task model serves every kind of field visit (patrol, inspection, meter reading, a case's survey,
a fault visit...). A task points at what it is about by the same `(asset_type, asset_id)` reference the
audit log and the outbox use, or carries its own location (a point or a line stretch).

Offline devices edit tasks and findings against a version they pulled. `version` is bumped by every
write, and `field_versions` records, per field, the version that last changed it: a device's update
based on version 7 conflicts only on fields changed after 7 (see `inspections.versioning`).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
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
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models import Base


class ChecklistTemplate(Base):
    """A named checklist ("10 kV overhead line patrol"); its items live in numbered versions."""

    __tablename__ = "checklist_templates"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    task_type: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    versions: Mapped[list[ChecklistVersion]] = relationship(order_by="ChecklistVersion.version",
                                                           back_populates="template")


class ChecklistVersion(Base):
    """One immutable version of a template's items. A task is done against one version and keeps it,
    so changing a checklist never changes what an earlier inspection answered.

    `items`: `[{"key", "label", "answer_type": yes_no|number|choice|text|photo, "required",
    "min", "max", "unit", "choices"}]` (validated by `inspections.checklists`).
    """

    __tablename__ = "checklist_versions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("checklist_templates.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[str] = mapped_column(String(200))

    template: Mapped[ChecklistTemplate] = relationship(back_populates="versions")

    __table_args__ = (UniqueConstraint("template_id", "version", name="uq_checklist_versions_template_version"),)


class InspectionPlan(Base):
    """A patrol cycle: assets of one class within a voltage range are inspected every `cycle_days`
    with a checklist. Seeded from `inspections/data/plans.json` (defaults with their source); the
    utility changes them. The daily plan job creates the tasks that fall due."""

    __tablename__ = "inspection_plans"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # overhead_line | cable | transformer | substation | switch (what the plan walks over)
    asset_class: Mapped[str] = mapped_column(String(40))
    min_kv: Mapped[float] = mapped_column(Float, default=0.0)
    max_kv: Mapped[float] = mapped_column(Float, default=1000.0)
    cycle_days: Mapped[int] = mapped_column(Integer)
    task_type: Mapped[str] = mapped_column(String(40))
    checklist_template_id: Mapped[int | None] = mapped_column(ForeignKey("checklist_templates.id"))
    # [{"certificate_type": ..., "voltage_kv": ...}] every task of the plan needs.
    required_qualifications: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list,
                                                                          server_default=text("'[]'::jsonb"))
    # How many days a task has from the day it falls due.
    window_days: Mapped[int] = mapped_column(Integer, default=7)
    # Where the cycle counts from for an asset never inspected under the plan: the plan's creation
    # (its first tasks fall due `cycle_days` later). Administrators may move it.
    anchor_on: Mapped[date] = mapped_column(Date, server_default=func.current_date())
    priority: Mapped[int] = mapped_column(Integer, default=3)
    source: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 onupdate=func.now())

    __table_args__ = (CheckConstraint("cycle_days > 0", name="cycle_positive"),
                      CheckConstraint("min_kv <= max_kv", name="voltage_range"))


class FieldTask(Base):
    """One piece of field work for one inspector, from planning to closure (see `inspections.workflow`).

    Either `asset_type`/`asset_id` names what is visited (its geometry is the task's location), or
    `location` is set (a point, or a line stretch for a patrol). `due_from`/`due_until` is the window
    the work must be done in. `required_qualifications` gate who may be assigned.
    """

    __tablename__ = "field_tasks"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # Stable across devices and exports; a task created on a device (a follow-up) brings its own.
    uuid: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), unique=True, default=uuid.uuid4)
    task_type: Mapped[str] = mapped_column(String(40), index=True)
    state: Mapped[str] = mapped_column(String(20), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    field_versions: Mapped[dict[str, int]] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    title: Mapped[str] = mapped_column(String(300), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[int] = mapped_column(Integer, default=3)  # 1 most urgent .. 5
    asset_type: Mapped[str | None] = mapped_column(String(60))
    asset_id: Mapped[int | None] = mapped_column(BigInteger)
    location = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=True), nullable=False)
    voltage_kv: Mapped[float | None] = mapped_column(Float)
    due_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_until: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    required_qualifications: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list,
                                                                          server_default=text("'[]'::jsonb"))
    checklist_version_id: Mapped[int | None] = mapped_column(ForeignKey("checklist_versions.id"))
    # {item_key: {"value": ..., "by": username, "at": iso, "device_time": iso|None}}
    answers: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))

    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    review_note: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    # Where the task came from: a plan's cycle (one task per plan, asset and due day), a case's site
    # visit, a finding or a meter reading that needs a follow-up.
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("inspection_plans.id"))
    plan_due_on: Mapped[date | None] = mapped_column(Date)
    site_visit_id: Mapped[int | None] = mapped_column(ForeignKey("site_visits.id"), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    parent_task_id: Mapped[int | None] = mapped_column(ForeignKey("field_tasks.id"))
    origin: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))

    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 onupdate=func.now())

    checklist_version: Mapped[ChecklistVersion | None] = relationship(lazy="joined")
    findings: Mapped[list[Finding]] = relationship(order_by="Finding.id", back_populates="task",
                                                   foreign_keys="Finding.task_id")

    __table_args__ = (
        CheckConstraint("priority BETWEEN 1 AND 5", name="priority_range"),
        CheckConstraint("due_from <= due_until", name="due_window"),
        CheckConstraint("(asset_type IS NULL) = (asset_id IS NULL)", name="asset_reference"),
        # Running the plan job twice creates nothing more.
        Index("uq_field_tasks_plan_asset_due", "plan_id", "asset_type", "asset_id", "plan_due_on", unique=True,
              postgresql_where=text("plan_id IS NOT NULL")),
    )


class Finding(Base):
    """A defect found in the field: severity, category, where, on which asset, what should be done,
    and the follow-up task when one is needed. Critical findings reach the dispatchers at once
    (an outbox event `finding.critical`)."""

    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # Generated by the device that recorded it: the same finding pushed twice is one finding.
    uuid: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), unique=True, default=uuid.uuid4)
    task_id: Mapped[int] = mapped_column(ForeignKey("field_tasks.id"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    field_versions: Mapped[dict[str, int]] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    severity: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(Text, default="")
    recommended_action: Mapped[str] = mapped_column(Text, default="")
    asset_type: Mapped[str | None] = mapped_column(String(60))
    asset_id: Mapped[int | None] = mapped_column(BigInteger)
    geom = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=True), nullable=False)
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    device_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    follow_up_task_id: Mapped[int | None] = mapped_column(ForeignKey("field_tasks.id"))
    # A tree measured too close to a line: the tree clearance rule of the rule set in force applied
    # to the measurement (rule, both distances, which governed, whether it is broken), as screening
    # applies it to a planting request. None for every other finding.
    clearance_check: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 onupdate=func.now())

    task: Mapped[FieldTask] = relationship(back_populates="findings", foreign_keys=[task_id])

    __table_args__ = (
        CheckConstraint("severity IN ('critical', 'major', 'minor')", name="severity"),
        CheckConstraint("(asset_type IS NULL) = (asset_id IS NULL)", name="asset_reference"),
    )


class QualityAudit(Base):
    """The auditor's random sample (third level of quality control): which reviewed task was drawn,
    when, and the grade given from its defect count (`inspections/data/quality.json`)."""

    __tablename__ = "quality_audits"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("field_tasks.id"), unique=True)
    sampled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sample_id: Mapped[str] = mapped_column(String(60), index=True)
    graded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    graded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    defect_count: Mapped[int | None] = mapped_column(Integer)
    grade: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
