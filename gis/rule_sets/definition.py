"""The shape of a rule-set file, and the pure look-ups made on it (no database).

A rule names a *kind* of geometric test that the screening engine knows how to measure
(`zone`, `clearance`, `foundation`, `facility_radius`, `manual_zone`) and gives its distances per
voltage band with the legal source. Which rules apply to which activity, and whether breaking
them is a conflict or a condition, is also data (`activities`), so a utility can bring its own
jurisdiction without code changes.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class RuleKind(StrEnum):
    zone = "zone"  # inside a line's protection zone (distance from outermost conductor)
    clearance = "clearance"  # closer to a line than a clearance distance
    foundation = "foundation"  # closer to a pole/tower foundation
    facility_radius = "facility_radius"  # closer to any power facility
    manual_zone = "manual_zone"  # inside a zone drawn by an authority


class Outcome(StrEnum):
    conflict = "conflict"
    conditional = "conditional"


class Activity(StrEnum):
    connection = "connection"
    building = "building"
    excavation = "excavation"
    crane = "crane"
    tree_planting = "tree_planting"
    blasting = "blasting"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Band(_Strict):
    max_kv: float = Field(gt=0)
    max_exclusive: bool = False
    distance_m: float | None = Field(default=None, ge=0)
    note: str | None = None

    def covers(self, kv: float) -> bool:
        return kv < self.max_kv if self.max_exclusive else kv <= self.max_kv


class Rule(_Strict):
    code: str = Field(min_length=1, max_length=80)
    kind: RuleKind
    construction: Literal["overhead", "cable"] | None = None
    # For zones: which part of a line it protects (general area, built-up area, or a cable route).
    setting: Literal["general", "built_up", "cable"] | None = None
    plus_wind_swing: bool = False
    title: dict[str, str]
    source: str = Field(min_length=1)
    measured_from: str
    bands: tuple[Band, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _bands_ascend(self) -> Rule:
        limits = [b.max_kv for b in self.bands]
        if limits != sorted(limits):
            raise ValueError(f"rule {self.code}: bands must be in ascending max_kv")
        if self.kind == RuleKind.zone and self.setting is None:
            raise ValueError(f"rule {self.code}: a zone rule needs a setting (general, built_up or cable)")
        return self

    def distance_for(self, kv: float | None) -> float | None:
        """The distance for a nominal voltage; None when the rule sets none for it (e.g. no zone
        below 1 kV) or the voltage is beyond the table (the rule set does not cover it)."""
        if kv is None:
            kv = 0.0
        for band in self.bands:
            if band.covers(kv):
                return band.distance_m
        return None

    @property
    def largest_distance(self) -> float:
        return max((b.distance_m or 0.0) for b in self.bands)

    def title_in(self, language: str) -> str:
        return self.title.get(language) or self.title.get("en") or self.code


class ActivityRule(_Strict):
    rule: str
    outcome: Outcome


class RuleSetDefinition(_Strict):
    code: str = Field(pattern=r"^[A-Z0-9][A-Z0-9._-]{0,39}$")
    version: str = Field(pattern=r"^[0-9A-Za-z][0-9A-Za-z._-]{0,39}$")
    jurisdiction: str = Field(min_length=2, max_length=20)
    title: str
    effective_date: date
    is_default: bool = False
    sources: dict[str, str] = Field(default_factory=dict)
    voltage_bands: str = ""
    rules: tuple[Rule, ...] = Field(min_length=1)
    activities: dict[Activity, tuple[ActivityRule, ...]]

    @model_validator(mode="after")
    def _references_resolve(self) -> RuleSetDefinition:
        codes = [r.code for r in self.rules]
        if len(codes) != len(set(codes)):
            raise ValueError("rule codes must be unique within a rule set")
        for activity, entries in self.activities.items():
            for entry in entries:
                if entry.rule not in codes:
                    raise ValueError(f"activity {activity} refers to unknown rule {entry.rule!r}")
        return self

    @property
    def label(self) -> str:
        return f"{self.code} {self.version}"

    def rule(self, code: str) -> Rule:
        return next(r for r in self.rules if r.code == code)

    def zone_rule(self, setting: str) -> Rule | None:
        return next((r for r in self.rules if r.kind == RuleKind.zone and r.setting == setting), None)

    def rules_for(self, activity: Activity) -> list[tuple[Rule, Outcome]]:
        return [(self.rule(entry.rule), entry.outcome) for entry in self.activities.get(activity, ())]
