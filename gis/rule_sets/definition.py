"""The shape of a rule-set file, and the pure look-ups made on it (no database).

A rule names a *kind* of geometric test that the screening engine knows how to measure
(`zone`, `clearance`, `foundation`, `facility_radius`, `manual_zone`) and gives its distances per
voltage band with the legal source. Which rules apply to which activity, and whether breaking
them is a conflict or a condition, is also data (`activities`), so a utility can bring its own
jurisdiction without code changes.

A clearance rule may also give a *vertical* clearance (from the lowest conductor down to the top
of a building, boom, tree or vehicle) and say how the two distances combine (`Vertical.beside`);
`gis.rule_sets.clearance` applies them. A rule may apply only to objects taller than a threshold
(`object_taller_than_m`: the 4 m of 实施细则 §14) and may name the decision documents' clause that
goes with it (`clause`).
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
    kite_flying = "kite_flying"
    vehicle_passage = "vehicle_passage"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Band(_Strict):
    max_kv: float = Field(gt=0)
    max_exclusive: bool = False
    distance_m: float | None = Field(default=None, ge=0)
    note: str | None = None
    # The law is silent for this band and the value is the utility's own (its note says where it
    # comes from); findings made with it say so.
    utility_value: bool = False

    def covers(self, kv: float) -> bool:
        return kv < self.max_kv if self.max_exclusive else kv <= self.max_kv


def _ascending(bands: tuple[Band, ...], what: str) -> None:
    limits = [b.max_kv for b in bands]
    if limits != sorted(limits):
        raise ValueError(f"{what}: bands must be in ascending max_kv")


def band_for(bands: tuple[Band, ...], kv: float | None) -> Band | None:
    """The band of a nominal voltage; None beyond the table (the rule set does not cover it)."""
    return next((band for band in bands if band.covers(kv or 0.0)), None)


class Beside(StrEnum):
    """How a vertical clearance combines with the horizontal one when the object is not under the
    conductors (under them, the vertical clearance always decides)."""

    # Beside the line the horizontal distance alone decides, whatever the object's height: JGJ 46
    # gives buildings and cranes a horizontal distance to keep beside a line.
    horizontal = "horizontal"
    # Keeping either distance is enough: an object whose top stays the vertical clearance below the
    # conductor is clear beside the line too (trees at maximum sag, vehicles passing, OSHA's
    # distances in any direction).
    either = "either"


class Vertical(_Strict):
    """The vertical clearance of a clearance rule: lowest conductor (at maximum sag) to the top of
    the object, per voltage band."""

    source: str = Field(min_length=1)
    measured_from: str
    beside: Beside
    bands: tuple[Band, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _bands_ascend(self) -> Vertical:
        _ascending(self.bands, "vertical clearance")
        return self

    def distance_for(self, kv: float | None) -> float | None:
        band = band_for(self.bands, kv)
        return band.distance_m if band else None


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
    vertical: Vertical | None = None
    # The rule applies only to objects taller than this (实施细则 §14: vehicles over 4 m).
    object_taller_than_m: float | None = Field(default=None, gt=0)
    # The decision documents' clause printed when a finding of this rule is on a case
    # (`cases/documents/templates/*.json`, `rule_clauses`).
    clause: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]{0,39}$")

    @model_validator(mode="after")
    def _bands_ascend(self) -> Rule:
        _ascending(self.bands, f"rule {self.code}")
        if self.kind == RuleKind.zone and self.setting is None:
            raise ValueError(f"rule {self.code}: a zone rule needs a setting (general, built_up or cable)")
        if (self.vertical or self.object_taller_than_m) and (self.kind != RuleKind.clearance
                                                             or self.construction != "overhead"):
            raise ValueError(f"rule {self.code}: a vertical clearance or a height threshold needs a clearance "
                             "rule on overhead lines")
        if self.plus_wind_swing and (self.kind not in (RuleKind.zone, RuleKind.clearance)
                                     or self.construction == "cable"):
            raise ValueError(f"rule {self.code}: wind swing applies to zones and clearances of overhead lines")
        return self

    def band_for(self, kv: float | None) -> Band | None:
        return band_for(self.bands, kv)

    def distance_for(self, kv: float | None) -> float | None:
        """The distance for a nominal voltage; None when the rule sets none for it (e.g. no zone
        below 1 kV) or the voltage is beyond the table (the rule set does not cover it)."""
        band = self.band_for(kv)
        return band.distance_m if band else None

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
    # How the set's vertical clearances are measured (prose for the reader of the file).
    vertical_clearances: str = ""
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
