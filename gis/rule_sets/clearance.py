"""Applying a clearance rule to one object beside or under one overhead line (pure, no database).

The object (a building, a crane's boom or load, a tree at its mature height, a vehicle with its
load) is a vertical extent from the ground up to `object_top_m`, at `horizontal_m` from the line's
outermost conductor at rest (0 when it reaches under the conductors). The conductor hangs at
`conductor_height_m` above the ground at its lowest (the line's recorded minimum ground clearance,
at maximum sag, or the default for its voltage).

- The horizontal test is today's: the distance from the outer conductor against the rule's
  distance, plus the line's wind swing where the rule is measured at maximum wind swing (trees).
- The vertical test compares the gap between conductor and object top with the rule's vertical
  clearance.
- Under the conductors the vertical test decides. Beside them, the rule says (`Vertical.beside`):
  the horizontal test alone (JGJ 46 for buildings and cranes), or either test kept is enough
  (a low shrub or a low vehicle beside a line is clear).

Equality is a finding, as for every distance the screening measures ("at or within").
An object of unknown height is taken to reach the conductor (gap 0): the rule cannot be shown kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from gis.network.line_defaults import conductor_height, line_wind_swing_m
from gis.rule_sets.definition import Beside, Rule, band_for

Governing = Literal["horizontal", "vertical"]


@dataclass(frozen=True)
class Placement:
    """Where an object stands relative to one overhead line, and how tall both are."""

    horizontal_m: float
    object_top_m: float | None
    conductor_height_m: float
    conductor_height_is_default: bool
    wind_swing_m: float = 0.0


def beside_line(*, horizontal_m: float, object_top_m: float | None, nominal_kv: float, construction: str,
                min_ground_clearance_m: float | None, wind_swing_m: float | None,
                measured_conductor_height_m: float | None = None) -> Placement:
    """An object beside one line, with the line's conductor height and wind swing taken as every
    clearance takes them: the line's record, else its voltage's default (flagged), and a conductor
    height measured on site before either. Screening and line patrol both place objects here, so the
    two never disagree about a line."""
    if measured_conductor_height_m is not None:
        height, is_default = measured_conductor_height_m, False
    else:
        height, is_default = conductor_height(nominal_kv=nominal_kv, min_ground_clearance_m=min_ground_clearance_m)
    swing = line_wind_swing_m(nominal_kv=nominal_kv, wind_swing_m=wind_swing_m) if construction == "overhead" else 0.0
    return Placement(horizontal_m=horizontal_m, object_top_m=object_top_m, conductor_height_m=height,
                     conductor_height_is_default=is_default, wind_swing_m=swing)


@dataclass(frozen=True)
class ClearanceCheck:
    """The outcome of one rule on one placement: both distances, which governed, and whether it
    was broken. `required_m` / `measured_m` / `shortfall_m` are those of the governing distance."""

    broken: bool
    governing: Governing
    required_m: float
    measured_m: float
    horizontal_required_m: float
    horizontal_measured_m: float
    vertical_required_m: float | None
    vertical_gap_m: float | None
    placement: Placement
    utility_value: bool
    # The line's wind swing was added to the horizontal distance (a rule measured at maximum wind swing).
    plus_wind_swing: bool = False

    @property
    def shortfall_m(self) -> float:
        return self.required_m - self.measured_m

    def details(self) -> dict[str, Any]:
        """What a finding shows beside its governing distance (rounded to the millimetre)."""
        horizontal = {"required_m": round(self.horizontal_required_m, 3),
                      "measured_m": round(self.horizontal_measured_m, 3)}
        if self.plus_wind_swing:
            horizontal["wind_swing_m"] = round(self.placement.wind_swing_m, 3)
        out: dict[str, Any] = {"governing": self.governing, "horizontal": horizontal}
        if self.vertical_required_m is not None:
            out["vertical"] = {
                "required_m": round(self.vertical_required_m, 3),
                "gap_m": None if self.vertical_gap_m is None else round(self.vertical_gap_m, 3),
                "conductor_height_m": round(self.placement.conductor_height_m, 3),
                "conductor_height_is_default": self.placement.conductor_height_is_default,
                "object_top_m": self.placement.object_top_m,
            }
        if self.utility_value:
            out["utility_value"] = True
        return out


def applies_to(rule: Rule, object_top_m: float | None) -> bool:
    """Whether a rule with a height threshold applies (an unknown height is taken to exceed it)."""
    threshold = rule.object_taller_than_m
    return threshold is None or object_top_m is None or object_top_m > threshold


def check(rule: Rule, *, nominal_kv: float, placement: Placement) -> ClearanceCheck | None:
    """Apply `rule` to `placement` beside a line of `nominal_kv`; None when the rule sets no
    distance for that voltage or does not apply to an object of that height."""
    band = rule.band_for(nominal_kv)
    if band is None or band.distance_m is None or not applies_to(rule, placement.object_top_m):
        return None
    swing = placement.wind_swing_m if rule.plus_wind_swing else 0.0
    h_required = band.distance_m + swing
    h_measured = max(0.0, placement.horizontal_m)
    h_broken = h_measured <= h_required
    vertical = rule.vertical
    v_band = band_for(vertical.bands, nominal_kv) if vertical is not None else None
    if vertical is None or v_band is None or v_band.distance_m is None:
        return ClearanceCheck(broken=h_broken, governing="horizontal", required_m=h_required, measured_m=h_measured,
                              horizontal_required_m=h_required, horizontal_measured_m=h_measured,
                              vertical_required_m=None, vertical_gap_m=None, placement=placement,
                              utility_value=band.utility_value, plus_wind_swing=rule.plus_wind_swing)
    v_required = v_band.distance_m
    top = placement.object_top_m
    # Unknown height: taken to reach the conductor, so the gap cannot be shown to be kept.
    gap = placement.conductor_height_m - (top if top is not None else placement.conductor_height_m)
    v_broken = gap <= v_required
    governing: Governing = "vertical" if h_measured <= 0.0 else "horizontal"  # under the conductors, or beside
    if governing == "vertical":
        broken = v_broken
    elif vertical.beside == Beside.horizontal:
        broken = h_broken
    else:
        broken = h_broken and v_broken
    required, measured = (v_required, gap) if governing == "vertical" else (h_required, h_measured)
    return ClearanceCheck(broken=broken, governing=governing, required_m=required, measured_m=measured,
                          horizontal_required_m=h_required, horizontal_measured_m=h_measured,
                          vertical_required_m=v_required, vertical_gap_m=gap if top is not None else None,
                          placement=placement, utility_value=band.utility_value or v_band.utility_value,
                          plus_wind_swing=rule.plus_wind_swing)

