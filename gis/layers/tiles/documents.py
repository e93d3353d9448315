"""TileJSON per layer and the MapLibre style: documents about the tiles, with absolute tile URLs
built from the base URL the client reached the API at (behind a proxy too, with --proxy-headers).

The style's layers are data (`style.json`); its sources are the tile layers, filled in here."""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

from sqlalchemy import Boolean, Float, Integer, Numeric

from core.permissions import Role, has_permission
from gis.layers.tiles.spec import STYLE_PATH, TileLayer

TILEJSON_VERSION = "3.0.0"


def tile_url(base_url: str, layer: TileLayer) -> str:
    return f"{base_url.rstrip('/')}/tiles/{layer.name}/{{z}}/{{x}}/{{y}}.mvt"


def _field_type(layer: TileLayer, name: str) -> str:
    column_type = layer.source.column(name).type
    if isinstance(column_type, Boolean):
        return "Boolean"
    return "Number" if isinstance(column_type, Integer | Float | Numeric) else "String"


def tilejson(*, layer: TileLayer, base_url: str) -> dict[str, Any]:
    """TileJSON 3.0.0: the tile URL, zooms and the one vector layer's fields."""
    fields = {"id": "Number", **{name: _field_type(layer, name) for name in layer.attributes},
              **{flag: "Boolean" for flag, _ in layer.flags}}
    return {"tilejson": TILEJSON_VERSION, "name": layer.name, "description": layer.title,
            "scheme": "xyz", "tiles": [tile_url(base_url, layer)], "minzoom": layer.min_zoom,
            "maxzoom": layer.max_zoom, "bounds": [-180, -85.0511, 180, 85.0511],
            "vector_layers": [{"id": layer.name, "description": layer.title, "fields": fields,
                               "minzoom": layer.min_zoom, "maxzoom": layer.max_zoom}]}


@cache
def _style_template() -> dict[str, Any]:
    template: dict[str, Any] = json.loads(STYLE_PATH.read_text(encoding="utf-8"))
    return template


def style(*, layers: dict[str, TileLayer], role: Role, base_url: str) -> dict[str, Any]:
    """The MapLibre style for a reader of `role`: one vector source per tile layer that role may
    read, and the style layers drawing them (a style layer of a source it may not read is left out)."""
    layers = {name: layer for name, layer in layers.items() if has_permission(role, layer.read_permission)}
    document = copy.deepcopy(_style_template())
    document.pop("_about", None)
    document["sources"] = {name: {"type": "vector", "tiles": [tile_url(base_url, layer)],
                                  "minzoom": layer.min_zoom, "maxzoom": layer.max_zoom}
                           for name, layer in layers.items()}
    document["layers"] = [item for item in document["layers"] if item.get("source", "") in layers
                          or "source" not in item]
    return document
