"""The routing rules of `routing/data/routing.json`, read once and typed: speeds per road class
and travel mode, the estimate's circuity, the snapping limit, time on site per task type, the
default shift and lunch, meter-reading defaults and the solver's defaults."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import time
from functools import cache
from pathlib import Path
from typing import Any

RULES_FILE = Path(__file__).parent / "data" / "routing.json"


@dataclass(frozen=True)
class ModeSpeeds:
    """How fast a travel mode goes on each road class (km/h); 0 or an excluded class: not usable."""

    name: str
    default_kmh: float
    kmh_by_class: dict[str, float]
    excluded_classes: frozenset[str]
    # Whether oneway roads bind the mode (vehicles); a person on foot walks a oneway street both ways.
    respects_oneway: bool = True

    def kmh(self, road_class: str) -> float:
        if road_class in self.excluded_classes:
            return 0.0
        return float(self.kmh_by_class.get(road_class, self.default_kmh))


@dataclass(frozen=True)
class RoutingRules:
    modes: dict[str, ModeSpeeds]
    circuity: float
    snap_max_m: float
    service_minutes_by_task_type: dict[str, float]
    service_minutes_default: float
    shift_start: time
    shift_end: time
    lunch_earliest_start: time
    lunch_latest_start: time
    lunch_minutes: int
    reading_service_s: int
    reading_mode: str
    time_limit_s: float
    max_time_limit_s: float
    default_seed: int

    def mode(self, name: str) -> ModeSpeeds:
        """The mode's speeds; an unknown name is a caller's mistake (validated at the edge)."""
        return self.modes[name]

    def service_s(self, task_type: str) -> int:
        return round(60 * self.service_minutes_by_task_type.get(task_type, self.service_minutes_default))


def _modes(raw: dict[str, Any]) -> dict[str, ModeSpeeds]:
    return {name: ModeSpeeds(name=name, default_kmh=float(spec["default_kmh"]),
                             kmh_by_class={k: float(v) for k, v in spec["kmh_by_class"].items()},
                             excluded_classes=frozenset(spec["excluded_classes"]),
                             respects_oneway=bool(spec.get("respects_oneway", True)))
            for name, spec in raw.items() if name != "source"}


@cache
def routing_rules() -> RoutingRules:
    raw = json.loads(RULES_FILE.read_text(encoding="utf-8"))
    shift, service, solver, reading = raw["shift"], raw["service_minutes"], raw["solver"], raw["meter_reading"]
    return RoutingRules(
        modes=_modes(raw["modes"]),
        circuity=float(raw["estimate"]["circuity"]),
        snap_max_m=float(raw["snap"]["max_distance_m"]),
        service_minutes_by_task_type={k: float(v) for k, v in service["by_task_type"].items()},
        service_minutes_default=float(service["default"]),
        shift_start=time.fromisoformat(shift["start"]),
        shift_end=time.fromisoformat(shift["end"]),
        lunch_earliest_start=time.fromisoformat(shift["lunch_earliest_start"]),
        lunch_latest_start=time.fromisoformat(shift["lunch_latest_start"]),
        lunch_minutes=int(shift["lunch_minutes"]),
        reading_service_s=int(reading["service_seconds"]),
        reading_mode=str(reading["mode"]),
        time_limit_s=float(solver["time_limit_s"]),
        max_time_limit_s=float(solver["max_time_limit_s"]),
        default_seed=int(solver["default_seed"]),
    )
