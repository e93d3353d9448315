"""Stored screenings: what was asked, under which rule-set version, and what was found.

A screening is a record, not a cache: approval decisions cite it, so it keeps the rule set id and
the full findings as they were, even after lines or rules change.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Index, Integer, String, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.models import Base


class Screening(Base):
    __tablename__ = "screenings"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by_id: Mapped[int | None] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(200))
    batch_id: Mapped[str | None] = mapped_column(String(40), index=True)
    batch_position: Mapped[int | None] = mapped_column(Integer)
    reference: Mapped[str | None] = mapped_column(String(200))
    # A client's Idempotency-Key: a retried submission returns these screenings instead of new ones.
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    # The SHA-256 of the request the key came with: the same key with another request is refused.
    # NULL on screenings stored before it was kept (their keys replay as before).
    idempotency_fingerprint: Mapped[str | None] = mapped_column(String(64))
    # What the screening was made for (e.g. a connection request), the cross-domain reference.
    subject_type: Mapped[str | None] = mapped_column(String(60))
    subject_id: Mapped[str | None] = mapped_column(String(60), index=True)
    activity: Mapped[str] = mapped_column(String(40))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONB)
    input_crs: Mapped[int] = mapped_column(Integer)
    on_date: Mapped[date] = mapped_column(Date)
    rule_set_id: Mapped[int] = mapped_column(ForeignKey("rule_sets.id"), index=True)
    verdict: Mapped[str] = mapped_column(String(20))
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    findings_total: Mapped[int] = mapped_column(Integer)
    nearest_transformers: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    geom = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=True), nullable=False)

    __table_args__ = (Index("ix_screenings_idempotency", "created_by_id", "idempotency_key",
                            postgresql_where=text("idempotency_key IS NOT NULL")),)
