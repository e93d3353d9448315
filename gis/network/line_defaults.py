"""Per-voltage typical values for line properties the source data often lacks (conductor spread,
wind swing). They are data (`gis/data/*_defaults.json`, each row with its source) and always
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
