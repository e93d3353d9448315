"""Road lines as read from a file, before they become a graph: their class (an OpenStreetMap
`highway` value), name, direction and vertices, each vertex with a key that says which vertices are
the same place (an OSM node id; a GeoPackage coordinate rounded to ~1 cm)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Hashable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from routing.rules import routing_rules

ALIASES_FILE = Path(__file__).parent / "data" / "road_classes.json"
# `oneway` values, as OpenStreetMap tags them (and Geofabrik's F/T/B): with the drawing, against it, both.
ONEWAY_FORWARD = frozenset({"yes", "true", "1", "f"})
ONEWAY_BACKWARD = frozenset({"-1", "reverse", "t"})
ONEWAY_NO = frozenset({"no", "false", "0", "b", ""})


@dataclass(frozen=True)
class RoadLine:
    """One road as drawn, oriented so that a oneway road runs from its first vertex to its last."""

    external_id: str
    road_class: str
    name: str
    oneway: bool
    keys: tuple[Hashable, ...]
    coordinates: tuple[tuple[float, float], ...]


@dataclass
class ParsedRoads:
    """The roads of a file, and what was left out of it (reason -> count)."""

    file_format: str
    lines: list[RoadLine] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)


@cache
def known_classes() -> frozenset[str]:
    """The classes `routing.json` gives a speed for or excludes, for any mode: the roads it knows."""
    modes = routing_rules().modes.values()
    return frozenset(c for mode in modes for c in (*mode.kmh_by_class, *mode.excluded_classes))


@cache
def class_aliases() -> dict[str, str]:
    raw = json.loads(ALIASES_FILE.read_text(encoding="utf-8"))["aliases"]
    return {name.casefold(): osm for name, osm in raw.items() if name != "source"}


def road_class(value: object) -> str | None:
    """The OSM class a file's class value stands for, or None when it names no known road class."""
    if value is None:
        return None
    name = str(value).strip().casefold()
    mapped = class_aliases().get(name, name)
    return mapped if mapped in known_classes() else None


def oneway_direction(value: object) -> int | None:
    """1 with the drawing, -1 against it, 0 both ways; None for a value that says neither."""
    name = "" if value is None else str(value).strip().casefold()
    if name in ONEWAY_FORWARD:
        return 1
    if name in ONEWAY_BACKWARD:
        return -1
    if name in ONEWAY_NO:
        return 0
    return None


def without_repeats(keys: list[Hashable], coordinates: list[tuple[float, float]]
                    ) -> tuple[tuple[Hashable, ...], tuple[tuple[float, float], ...]]:
    """Consecutive vertices that are the same place collapsed into one."""
    kept = [i for i in range(len(keys)) if i == 0 or keys[i] != keys[i - 1]]
    return tuple(keys[i] for i in kept), tuple(coordinates[i] for i in kept)
