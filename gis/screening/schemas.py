"""Edge schemas for screenings: the request bodies and the explained answer."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.bounds import IsoDate
from gis.geo.geojson_schema import GeoJSONGeometry
from gis.rule_sets.service import LoadedRuleSet
from gis.screening.models import Screening
from gis.screening.service import RawScreening


class ScreeningItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    geometry: GeoJSONGeometry = Field(description="GeoJSON Point, LineString or Polygon (or Multi*) in `crs`")
    activity: str = Field(description="connection, building, excavation, crane, tree_planting, blasting, "
                                      "kite_flying or vehicle_passage")
    parameters: dict[str, Any] = Field(default_factory=dict)
    reference: str | None = Field(default=None, max_length=200, description="The caller's own label")

    def raw(self) -> RawScreening:
        return RawScreening(geometry=self.geometry, activity=self.activity, parameters=self.parameters,
                            reference=self.reference)


class ScreeningIn(ScreeningItemIn):
    rule_set: str | None = Field(default=None, max_length=90,
                                 description="CODE or CODE@VERSION; the utility's default when omitted")
    on_date: IsoDate | None = Field(default=None, description="Date the activity takes place (zones in force)")


class ScreeningBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[ScreeningItemIn]
    rule_set: str | None = Field(default=None, max_length=90)
    on_date: IsoDate | None = None


class RuleSetRef(BaseModel):
    id: int
    code: str
    version: str
    jurisdiction: str
    title: str
    effective_date: date


class ScreeningOut(BaseModel):
    id: int
    verdict: str
    activity: str
    parameters: dict[str, Any]
    reference: str | None
    rule_set: RuleSetRef
    on_date: date
    screened_at: datetime
    screened_by: str
    findings_total: int
    findings: list[dict[str, Any]]
    nearest_transformers: list[dict[str, Any]]
    geometry: dict[str, Any] | None = None


def rule_set_ref(rule_set: LoadedRuleSet) -> RuleSetRef:
    d = rule_set.definition
    return RuleSetRef(id=rule_set.id, code=d.code, version=d.version, jurisdiction=d.jurisdiction, title=d.title,
                      effective_date=d.effective_date)


def screening_out(row: Screening, rule_set: LoadedRuleSet, geometry: dict[str, Any] | None = None) -> ScreeningOut:
    """The one place a stored screening becomes its API form."""
    return ScreeningOut(id=row.id, verdict=row.verdict, activity=row.activity, parameters=row.parameters,
                        reference=row.reference, rule_set=rule_set_ref(rule_set), on_date=row.on_date,
                        screened_at=row.created_at, screened_by=row.created_by, findings_total=row.findings_total,
                        findings=row.findings, nearest_transformers=row.nearest_transformers, geometry=geometry)
