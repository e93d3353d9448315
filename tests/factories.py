"""Valid GeoJSON features for every layer, and helpers that create them through the API.

`feature("lines", nominal_kv=35)` gives a Feature that the API accepts as it is; keyword arguments
override or add properties, `geometry=` replaces the geometry. `create(client, headers, "lines")`
posts it and returns the response, asserting nothing so tests can check failures too.
"""

from __future__ import annotations

import itertools
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

# Hefei, Anhui: well inside CGCS2000 / UTM 50N, away from zone edges.
BASE_LON, BASE_LAT = 117.2272, 31.8206

NETWORK_LAYERS = ("substations", "transformers", "lines", "poles", "switches")
# Tables `row_count` may read: a fixed list, since a table name cannot be a bound parameter.
TABLES = frozenset({*NETWORK_LAYERS, "customers", "audit_log"})

_ids = itertools.count(1)

_DEFAULT_PROPS: dict[str, dict[str, Any]] = {
    "substations": {"name": "Feixi 110 kV", "nominal_kv": 110.0},
    "transformers": {"name": "T1", "rated_kva": 630.0, "hv_kv": 10.0, "lv_kv": 0.4},
    "lines": {"name": "Feeder 12", "construction": "overhead", "nominal_kv": 10.0},
    "poles": {"kind": "pole", "nominal_kv": 10.0},
    "switches": {"name": "S1", "switch_type": "breaker", "is_open": False},
    "customers": {"name": "Zhang Wei", "category": "residential", "contact_phone": "+86 138 0013 8000"},
}


def point(lon: float = BASE_LON, lat: float = BASE_LAT) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def linestring(*coords: tuple[float, float]) -> dict[str, Any]:
    if not coords:
        coords = ((117.2272, 31.8206), (117.2372, 31.8256), (117.2472, 31.8206))  # literals: exact round trip
    return {"type": "LineString", "coordinates": [list(c) for c in coords]}


def feature(layer: str, *, geometry: dict[str, Any] | None = None, **props: Any) -> dict[str, Any]:
    """A Feature valid for `layer`, with a fresh external_id (and account number for customers)."""
    n = next(_ids)
    properties: dict[str, Any] = {"external_id": f"{layer}-{n}", **_DEFAULT_PROPS[layer]}
    if layer == "customers":
        properties["account_number"] = f"ACC-{n:06d}"
    properties.update(props)
    if geometry is None:
        geometry = linestring() if layer == "lines" else point()
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def url(layer: str) -> str:
    return "/api/v1/customers" if layer == "customers" else f"/api/v1/network/{layer}"


def create(client: TestClient, headers: dict[str, str], layer: str, *, crs: str | None = None,
           geometry: dict[str, Any] | None = None, **props: Any) -> Any:
    """POST a valid feature of `layer` (plus overrides); returns the raw response."""
    params = {"crs": crs} if crs else None
    return client.post(url(layer), json=feature(layer, geometry=geometry, **props), headers=headers, params=params)


def created(client: TestClient, headers: dict[str, str], layer: str, **kwargs: Any) -> dict[str, Any]:
    """Create a feature that must succeed; returns the Feature body."""
    response = create(client, headers, layer, **kwargs)
    assert response.status_code == 201, response.text
    return response.json()


def row_count(engine: Engine, table: str) -> int:
    """Rows in a table, deleted or not, read as the schema owner (bypasses the API)."""
    if table not in TABLES:
        raise ValueError(f"row_count does not know table {table!r}")
    with engine.connect() as conn:
        return conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()
