"""Tile layer specs: `layers.json` (data) bound to the tables of the layer catalogue.

A tile layer is drawn from a published layer of the catalogue (`gis.layers.catalogue`; cases are
one, as points at their location, declared by the cases domain). It reads with that layer's
permission; its columns are checked against the table when the specs load, so a misspelt attribute
fails at start-up, not on a map.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy.orm import InstrumentedAttribute

from core.permissions import Permission
from gis.layers.catalogue import all_layers

SPECS_PATH = Path(__file__).with_name("layers.json")
STYLE_PATH = Path(__file__).with_name("style.json")
WEB_MERCATOR = 3857


@dataclass(frozen=True)
class Detail:
    """Rows whose `column` is below `below` are drawn only from `min_zoom` on."""

    column: str
    below: float
    min_zoom: int


@dataclass(frozen=True)
class Source:
    """Where a tile layer's features come from: a table, its geometry column, who may read it."""

    model: type[Any]
    geometry_column: str
    read_permission: Permission

    @property
    def table(self) -> str:
        return str(self.model.__tablename__)

    def column(self, name: str) -> InstrumentedAttribute[Any]:
        if name not in self.model.__table__.columns:
            raise ValueError(f"{self.table} has no column {name!r}")
        found: InstrumentedAttribute[Any] = getattr(self.model, name)
        return found


@dataclass(frozen=True)
class TileLayer:
    """One vector tile layer: its name (URL and MVT source-layer), source and what a tile holds."""

    name: str
    title: str
    source: Source
    min_zoom: int
    max_zoom: int
    attributes: tuple[str, ...]
    flags: tuple[tuple[str, str], ...]  # (property, column): true when the column is set
    details: tuple[Detail, ...]
    simplify: tuple[tuple[int, float], ...]  # (from zoom, tolerance in tile units), ascending
    extent: int
    buffer: int
    digest: str  # of this layer's spec: a changed spec changes every tile's ETag

    @property
    def read_permission(self) -> Permission:
        return self.source.read_permission

    def tolerance(self, z: int) -> float:
        """Simplification tolerance at zoom `z`, in tile units (0: none)."""
        found = 0.0
        for from_zoom, tolerance in self.simplify:
            if z >= from_zoom:
                found = tolerance
        return found

    def details_hidden(self, z: int) -> tuple[Detail, ...]:
        """The detail rules that still hide rows at zoom `z`."""
        return tuple(d for d in self.details if z < d.min_zoom)


def _sources() -> dict[str, Source]:
    return {layer.name: Source(model=layer.model, geometry_column=layer.geometry_column,
                               read_permission=layer.read_permission) for layer in all_layers()}


def _titles() -> dict[str, str]:
    return {layer.name: layer.title for layer in all_layers()}


def _layer(name: str, raw: dict[str, Any], source: Source, title: str, extent: int, buffer: int) -> TileLayer:
    layer = TileLayer(
        name=name, title=title, source=source, min_zoom=int(raw["min_zoom"]), max_zoom=int(raw["max_zoom"]),
        attributes=tuple(raw["attributes"]), flags=tuple(sorted(raw.get("flags", {}).items())),
        details=tuple(Detail(column=d["column"], below=float(d["below"]), min_zoom=int(d["min_zoom"]))
                      for d in raw.get("detail", [])),
        simplify=tuple(sorted((int(z), float(t)) for z, t in raw.get("simplify", []))),
        extent=extent, buffer=buffer,
        digest=hashlib.sha256(json.dumps([raw, extent, buffer], sort_keys=True).encode()).hexdigest()[:12])
    for column in (*layer.attributes, *(c for _, c in layer.flags), *(d.column for d in layer.details),
                   source.geometry_column):
        source.column(column)
    return layer


@cache
def tile_layers() -> dict[str, TileLayer]:
    """Every tile layer by name, in the order of `layers.json` (fixed for the process)."""
    document = json.loads(SPECS_PATH.read_text(encoding="utf-8"))
    sources, titles = _sources(), _titles()
    unknown = set(document["layers"]) - set(sources)
    if unknown:
        raise ValueError(f"tile layers without a source layer: {sorted(unknown)}")
    return {name: _layer(name, raw, sources[name], titles[name], document["extent"], document["buffer"])
            for name, raw in document["layers"].items()}
