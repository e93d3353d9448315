"""Per-voltage typical values for line properties the source data often lacks (conductor spread,
wind swing, the conductor's lowest height above ground). They are data (`gis/data/*_defaults.json`, each row with its source) and always
flagged as defaults where they are used, so nobody mistakes them for surveyed values."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


@lru_cache(maxsize=4)
def _table(file_name: str, value_key: str) -> tuple[tuple[float, float, float], ...]:
    entries = json.loads((DATA_DIR / file_name).read_text(encoding="utf-8"))
    return tuple((float(e["above_kv"]), float(e["up_to_kv"]), float(e[value_key])) for e in entries)


def spread_table() -> tuple[tuple[float, float, float], ...]:
    """(above_kv, up_to_kv, spread_m) rows of the default-spread table, for SQL that looks it up."""
    return _table("conductor_spread_defaults.json", "spread_m")


def _lookup(file_name: str, value_key: str, kv: float) -> float | None:
    for above, up_to, value in _table(file_name, value_key):
        if above < kv <= up_to:
            return value
    return None


def default_spread_m(kv: float) -> float | None:
    """Typical horizontal spread between outermost conductors (conductor_spread_defaults.json)."""
    return _lookup("conductor_spread_defaults.json", "spread_m", kv)


def default_wind_swing_m(kv: float) -> float | None:
    """Typical horizontal conductor swing at maximum wind (wind_swing_defaults.json)."""
    return _lookup("wind_swing_defaults.json", "wind_swing_m", kv)


def default_conductor_height_m(kv: float) -> float | None:
    """The lowest height a compliant conductor may hang at for its voltage, at maximum sag
    (conductor_height_defaults.json): what vertical clearances use when a line has no recorded
    minimum ground clearance."""
    return _lookup("conductor_height_defaults.json", "height_m", kv)


def conductor_height(*, nominal_kv: float, min_ground_clearance_m: float | None) -> tuple[float, bool]:
    """(height of the lowest conductor above ground, whether it is the per-voltage default). A line
    beyond the defaults table (above 800 kV) without a recorded value is taken at ground level,
    so that no vertical clearance is ever assumed kept."""
    if min_ground_clearance_m is not None:
        return min_ground_clearance_m, False
    return default_conductor_height_m(nominal_kv) or 0.0, True


def line_wind_swing_m(*, nominal_kv: float, wind_swing_m: float | None) -> float:
    """A line's recorded wind swing, else its voltage's default (0 beyond the defaults table)."""
    if wind_swing_m is not None:
        return wind_swing_m
    return default_wind_swing_m(nominal_kv) or 0.0
