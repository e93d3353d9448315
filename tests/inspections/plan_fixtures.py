"""Inspection plans and network assets written straight into the test database, so that a test
states the cycle, anchor and voltage band it is about (the shipped defaults are seeded by the
migration, which `tests/inspections/test_plan_migration.py` checks)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gis.network.models import Construction, Line, Substation, Switch, Transformer
from inspections.models import ChecklistTemplate, InspectionPlan

_ids = itertools.count(1)
HEFEI_LINE = "SRID=4326;LINESTRING(117.2272 31.8206, 117.2372 31.8256)"
HEFEI_POINT = "SRID=4326;POINT(117.2272 31.8206)"


def checklist(db: Session, code: str) -> ChecklistTemplate:
    """One of the default checklist templates the migrations seed (reference data, kept between tests)."""
    return db.scalars(select(ChecklistTemplate).where(ChecklistTemplate.code == code)).one()


def plan(db: Session, *, code: str, asset_class: str, cycle_days: int, anchor_on: date, min_kv: float = 0,
         max_kv: float = 1000, window_days: int = 7, template: ChecklistTemplate | None = None,
         qualifications: list[dict[str, Any]] | None = None, active: bool = True) -> InspectionPlan:
    row = InspectionPlan(code=code, name=f"Plan {code}", asset_class=asset_class, min_kv=min_kv, max_kv=max_kv,
                         cycle_days=cycle_days, window_days=window_days, anchor_on=anchor_on, priority=2,
                         task_type="line_patrol", checklist_template_id=template.id if template else None,
                         required_qualifications=qualifications or [], source="tests", active=active, version=1)
    db.add(row)
    db.flush()
    return row


def line(db: Session, *, kv: float, construction: Construction = Construction.overhead, deleted: bool = False,
         name: str = "") -> Line:
    n = next(_ids)
    row = Line(external_id=f"line-{n}", name=name, construction=construction, nominal_kv=kv, geom=HEFEI_LINE,
               deleted_at=datetime(2026, 1, 1, tzinfo=UTC) if deleted else None)
    db.add(row)
    db.flush()
    return row


def transformer(db: Session, *, hv_kv: float) -> Transformer:
    row = Transformer(external_id=f"transformer-{next(_ids)}", name="T1", rated_kva=630, hv_kv=hv_kv, lv_kv=0.4,
                      geom=HEFEI_POINT)
    db.add(row)
    db.flush()
    return row


def substation(db: Session, *, kv: float | None) -> Substation:
    row = Substation(external_id=f"substation-{next(_ids)}", name="Feixi", nominal_kv=kv, geom=HEFEI_POINT)
    db.add(row)
    db.flush()
    return row


def switch(db: Session, *, kv: float | None) -> Switch:
    row = Switch(external_id=f"switch-{next(_ids)}", name="S1", nominal_kv=kv, geom=HEFEI_POINT)
    db.add(row)
    db.flush()
    return row
