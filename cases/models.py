"""Cases (connection requests, construction permits, encroachment cases), their history, their
site visits and decisions, their decision documents and the serial-number counters those documents
draw from."""

from __future__ import annotations

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
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models import Base


class Case(Base):
    """One request or case from first contact to closure.

    `owner_id` is the one accountable person at every moment (首问负责制): set at registration,
    changed only by an explicit, audited hand-over. `deadline_at` is the end of the current stage's
    time limit in working days; `version` guards every action against concurrent changes.
    """

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    request_type: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(40), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    applicant_name: Mapped[str] = mapped_column(String(200), default="")
    applicant_phone: Mapped[str | None] = mapped_column(String(40))
    applicant_id_number: Mapped[str | None] = mapped_column(String(40))
    site_address: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    requested_load_kw: Mapped[float | None] = mapped_column(Float)
    requested_capacity_kva: Mapped[float | None] = mapped_column(Float)
    voltage_kv: Mapped[float] = mapped_column(Float)
    activities: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    language: Mapped[str] = mapped_column(String(5), default="zh")
    department: Mapped[str] = mapped_column(String(60))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    surveyed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reinspected_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    verdict: Mapped[str | None] = mapped_column(String(20))
    screening_ids: Mapped[list[int]] = mapped_column(JSONB, default=list)
    stage_started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # A limit set for this stage by the officer (a hazard notice's rectification period), if any.
    stage_limit_days: Mapped[int | None] = mapped_column(Integer)
    deadline_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    overdue_flagged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    # The SHA-256 of the request the key came with (NULL before it was kept): see service.register.
    idempotency_fingerprint: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 onupdate=func.now())
    location = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=False)
    footprint = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=False), nullable=True)

    # Read one case at a time on the write paths (the audit snapshot); pages of cases read them with
    # one query each instead (`cases.service.case_views`).
    visits: Mapped[list[SiteVisit]] = relationship(order_by="SiteVisit.id", back_populates="case")
    decisions: Mapped[list[CaseDecision]] = relationship(order_by="CaseDecision.id", back_populates="case")

    __table_args__ = (UniqueConstraint("created_by_id", "idempotency_key", name="uq_cases_idempotency"),)


class CaseEvent(Base):
    """The case's own history, one row per action (the audit log holds the full before/after)."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_name: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(40))
    to_state: Mapped[str] = mapped_column(String(40))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class SiteVisit(Base):
    """One visit to a case's site: the survey, or a re-inspection after a hazard notice.

    The row exists from the moment someone is sent (assign_survey / assign_reinspection: who was
    assigned, by whom, when) and is completed when the visit is recorded (who went, when, what they
    found). A pending visit has `visited_at` NULL; a case has at most one pending visit, and assigning
    again while it is pending re-assigns that row. This is the record field work hangs off: a field
    task with its checklist answers and photos (issue 9) will point at its visit.
    """

    __tablename__ = "site_visits"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    # Visits migrated from before this table kept no assignment: then only the visitor is known
    # (who was, by rule, the assignee) and assigned_at / assigned_by_id come from the case's history.
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    visited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The visitor's name as the case shows it ("by"), kept as it was when the visit was recorded.
    visited_by_name: Mapped[str | None] = mapped_column(String(200))
    visited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    findings: Mapped[str | None] = mapped_column(Text)
    hazard_found: Mapped[bool | None] = mapped_column(Boolean)  # a survey's answer
    passed: Mapped[bool | None] = mapped_column(Boolean)  # a re-inspection's: the rectification is adequate
    # Measures found in place or recommended on site, if the visitor named any.
    measures: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default=text("'[]'::jsonb"))

    case: Mapped[Case] = relationship(back_populates="visits")

    __table_args__ = (
        CheckConstraint("kind IN ('survey', 'reinspection')", name="kind"),
        CheckConstraint("kind = 'survey' OR hazard_found IS NULL", name="hazard_found_on_surveys"),
        CheckConstraint("kind = 'reinspection' OR passed IS NULL", name="passed_on_reinspections"),
        CheckConstraint("visited_at IS NULL OR (visited_by_name IS NOT NULL AND findings IS NOT NULL)",
                        name="recorded_visit_complete"),
        Index("uq_site_visits_one_pending", "case_id", unique=True, postgresql_where=text("visited_at IS NULL")),
    )


class CaseDecision(Base):
    """One decision on a case (approval, approval with clauses, hazard notice, refusal,
    resolution), with its author, measures, note and the document it issued, if any. A case that
    went through a hazard notice and a re-inspection has several; the last one is the case's decision."""

    __tablename__ = "case_decisions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_by_name: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    measures: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default=text("'[]'::jsonb"))
    note: Mapped[str | None] = mapped_column(Text)
    # Whom a refusal is reported to (policy.json's escalation), as it was at the time.
    reported_to: Mapped[str | None] = mapped_column(Text)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("decision_documents.id"), unique=True)

    case: Mapped[Case] = relationship(back_populates="decisions")
    # Joined: a decision is never shown without its document's serial number.
    document: Mapped[DecisionDocumentRecord | None] = relationship(lazy="joined")


class DecisionDocumentRecord(Base):
    """An issued PDF: stored in S3 under its serial number, with its hash for integrity checks."""

    __tablename__ = "decision_documents"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    serial_number: Mapped[str] = mapped_column(String(40), unique=True)
    language: Mapped[str] = mapped_column(String(5))
    object_key: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    signed_by: Mapped[str] = mapped_column(String(200))
    signed_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SerialCounter(Base):
    """Continuous serial numbers per series and year: taken under a row lock in the issuing
    transaction, so a rolled-back decision does not leave a gap."""

    __tablename__ = "serial_counters"

    series: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class WorkingCalendarRecord(Base):
    """The holiday calendar in force, as administrators maintain it (seeded from
    cases/data/calendars/*.json). The whole document is kept, validated, with its fingerprint."""

    __tablename__ = "working_calendars"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSONB)
    sha256: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 onupdate=func.now())
    updated_by: Mapped[str] = mapped_column(String(200))
