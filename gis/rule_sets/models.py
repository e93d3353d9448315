"""Stored rule sets. A row is immutable once loaded: a changed rule is a new version."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, DateTime, Index, String, UniqueConstraint, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.models import Base


class RuleSet(Base):
    __tablename__ = "rule_sets"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    version: Mapped[str] = mapped_column(String(40))
    jurisdiction: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(400))
    effective_date: Mapped[date] = mapped_column(Date)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    # The whole file as loaded, so every screening can be re-explained with exactly these rules.
    definition: Mapped[dict[str, Any]] = mapped_column(JSONB)
    sha256: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    loaded_by: Mapped[str] = mapped_column(String(200))

    __table_args__ = (
        UniqueConstraint("code", "version", name="uq_rule_sets_code_version"),
        # At most one default rule set: it is the one derived zones and screenings use unless told.
        Index("uq_rule_sets_one_default", "is_default", unique=True, postgresql_where=text("is_default")),
    )
